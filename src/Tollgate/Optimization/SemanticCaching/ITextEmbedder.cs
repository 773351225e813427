namespace Tollgate.Optimization.SemanticCaching;

/// <summary>Turns a question into a unit-length vector; two questions alike in meaning have a high dot product.</summary>
public interface ITextEmbedder
{
    /// <summary>A short name for reports (<c>lexical</c>, <c>minilm</c>, an alias).</summary>
    string Name { get; }

    int Dimensions { get; }

    /// <summary>
    /// The vector of <paramref name="text"/>, L2-normalised; null when none can be had now (an embedder that calls a
    /// provider, which is down or which <paramref name="payer"/>'s budget cannot pay for).
    /// </summary>
    /// <param name="text">The question or answer.</param>
    /// <param name="payer">Whose request needs it: an embedder that calls a provider charges them.</param>
    /// <param name="cancellationToken">The asking request's.</param>
    ValueTask<float[]?> EmbedAsync(string text, Ledger.Attribution? payer, CancellationToken cancellationToken);
}
