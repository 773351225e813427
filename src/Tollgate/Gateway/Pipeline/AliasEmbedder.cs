using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Policy.Budgets;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// The semantic cache's embedder <c>alias:NAME</c>: each text is embedded by an embeddings alias of this gateway (a
/// provider's model or a self-hosted one such as bge-m3: the multilingual path), through the same forwarder as any
/// request — fallbacks, retries, breakers and deployment limits apply — and metered like one: a ledger record per call,
/// charged to whoever asked the question (their key, user and feature) with the tag
/// <c>tollgate_cache=embedding</c> (<see cref="ResponseCacheWork"/>), and held against their budgets first. A call that cannot be made
/// (a budget spent, the provider down) gives no vector: the semantic look-up is skipped, the request goes on as a miss.
/// </summary>
public sealed class AliasEmbedder(string alias, Forwarding.Forwarder forwarder, UsageSettler settler, BudgetGuard budgets, TimeProvider time) : ITextEmbedder
{
    private int _dimensions;

    public string Name => "alias:" + alias;

    /// <summary>The length of the vectors the alias gave (0 before its first answer).</summary>
    public int Dimensions => Volatile.Read(ref _dimensions);

    public async ValueTask<float[]?> EmbedAsync(string text, Attribution? payer, CancellationToken cancellationToken)
    {
        var candidates = forwarder.Candidates(alias).Where(d => d.Adapter.Supports(GatewayEndpoint.Embeddings)).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var body = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["model"] = alias, ["input"] = text });
        var startedAt = time.GetUtcNow();
        var exchange = new Exchange(RequestId.New(startedAt), startedAt, time.GetTimestamp(), GatewayEndpoint.Embeddings, alias, candidates[0], body, false,
            ResponseCacheWork.Marked(payer ?? Attribution.Empty, ResponseCacheWork.Embedding));
        if (budgets.Any)
        {
            var raw = JsonSerializer.SerializeToUtf8Bytes(body);
            var estimate = RequestEstimate.Of(body, raw, candidates[0], startedAt);
            var (reservation, refused, _) = await budgets.AdmitAsync(exchange.Attribution, estimate.WorstCaseUsd() ?? 0, estimate.CannotBound(candidates[0]), cancellationToken);
            if (refused is not null)
            {
                return null;
            }

            exchange.Reservation = reservation;
        }

        var result = await forwarder.ForwardAsync(
            exchange,
            candidates,
            d => d.Adapter.SendAsync(new ProviderRequest(d.Config, GatewayEndpoint.Embeddings, body, false, false), cancellationToken),
            reply => reply,
            () => true,
            cancellationToken);
        if (result.Failure is { } failure)
        {
            await SettleFailureAsync(exchange, failure);
            return null;
        }

        var reply = result.Value!;
        await settler.SettleAsync(exchange, new ExchangeResult(
            reply.IsSuccess ? RecordStatus.Ok : RecordStatus.UpstreamError, reply.StatusCode, reply.Usage, reply.OutputCharacters, true,
            reply.IsSuccess ? null : $"provider answered {reply.StatusCode}"));
        return reply.IsSuccess ? FirstVector(reply.Body) : null;
    }

    /// <summary>As for a client's request: a call that never reached a provider leaves no record, one that may have leaves one.</summary>
    private async ValueTask SettleFailureAsync(Exchange exchange, ProviderFailure failure)
    {
        if (failure.Kind is ProviderFailureKind.Unavailable or ProviderFailureKind.RateLimited or ProviderFailureKind.Rejected)
        {
            if (failure.Kind == ProviderFailureKind.Rejected)
            {
                exchange.Deployment.Pricing.Hourly?.End(exchange.HourlyMark);
            }

            budgets.Settle(exchange.Reservation, 0);
            return;
        }

        await settler.SettleAsync(exchange, new ExchangeResult(RecordStatus.UpstreamError, 502, Metering.Usage.None, 0, false, failure.Message));
    }

    /// <summary>The first vector of an OpenAI embeddings answer, L2-normalised; null when the answer holds none.</summary>
    private float[]? FirstVector(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (!json.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() == 0
                || !data[0].TryGetProperty("embedding", out var embedding) || UnitVector.Of(embedding) is not { } vector)
            {
                return null;
            }

            Interlocked.CompareExchange(ref _dimensions, vector.Length, 0);
            return vector;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
