using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Optimization.SemanticCaching;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// The text embedders by name — <c>lexical</c>, <c>minilm</c>, <c>alias:NAME</c> — one instance each, shared by the
/// semantic cache and the routers' difficulty strategy (one ONNX session for MiniLM however many use it). Owns them.
/// </summary>
public sealed class EmbedderCatalog(IServiceProvider services) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ITextEmbedder>> _embedders = new(StringComparer.Ordinal);

    /// <summary>The embedder <paramref name="name"/> names (validated with the configuration).</summary>
    public ITextEmbedder For(string name) => _embedders.GetOrAdd(name, n => new Lazy<ITextEmbedder>(() => Create(n))).Value;

    public void Dispose()
    {
        foreach (var embedder in _embedders.Values.Where(e => e.IsValueCreated))
        {
            (embedder.Value as IDisposable)?.Dispose();
        }
    }

    private ITextEmbedder Create(string name)
    {
        // The embedders that cost (a provider call, ~10 ms of a model) remember the vectors of texts embedded lately.
        if (SemanticCacheSettings.EmbedderAlias(name) is { } alias)
        {
            return new RememberedVectors(new AliasEmbedder(
                alias,
                services.GetRequiredService<Forwarding.Forwarder>(),
                services.GetRequiredService<UsageSettler>(),
                services.GetRequiredService<Policy.Budgets.BudgetGuard>(),
                services.GetRequiredService<TimeProvider>()));
        }

        return name == "lexical"
            ? new LexicalEmbedder()
            : new RememberedVectors(SentenceModelEmbedder.Create(name) ?? throw new ArgumentOutOfRangeException(nameof(name), name, "not an embedder: lexical, minilm or alias:NAME"));
    }
}
