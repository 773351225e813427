using System.Text.Json;
using Tollgate.Ledger;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// With <c>storage.record_prompt_facts</c> on, reads what <c>tollgate route simulate</c> needs of a forwarded request —
/// its length in characters and shape as a router's rules read them, and with <c>storage.prompt_facts_embedder</c> the
/// vector of its last user message — to keep on its record. A router's difficulty strategy that already embedded the
/// message with the same embedder gives its vector; otherwise the embedder runs here (the lexical one in microseconds,
/// an in-process model in milliseconds, an alias as a metered call charged to the asker).
/// </summary>
public sealed class PromptFactsRecorder(Configuration.GatewayConfig config, EmbedderCatalog embedders)
{
    public bool IsOn => config.Storage.RecordPromptFacts;

    /// <summary>The request's facts; null when recording them is off.</summary>
    public async ValueTask<PromptFacts?> OfAsync(JsonElement body, Attribution payer, Routing.RouteChoice? route, CancellationToken cancellationToken)
    {
        if (!IsOn)
        {
            return null;
        }

        var prompt = new Routing.RouteRequest(body, payer, static () => 0);
        var shape = (prompt.HasTools ? PromptShape.Tools : PromptShape.None)
            | (prompt.HasImages ? PromptShape.Images : PromptShape.None)
            | (prompt.HasResponseFormat ? PromptShape.ResponseFormat : PromptShape.None);
        PromptVector? vector = null;
        if (config.Storage.PromptFactsEmbedder is { } name)
        {
            vector = route?.Embedding is { } routed && routed.Embedder == name
                ? PromptVector.Of(name, routed.Values)
                : await EmbedAsync(name, prompt.LastUserText, payer, cancellationToken);
        }

        return new PromptFacts(prompt.PromptCharacters, shape, vector);
    }

    private async ValueTask<PromptVector?> EmbedAsync(string name, string? text, Attribution payer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var embedder = embedders.For(name);
        return await embedder.EmbedAsync(Routing.Difficulty.DifficultyScorer.InputFor(embedder, text), payer, cancellationToken) is { } values
            ? PromptVector.Of(name, values)
            : null;
    }
}
