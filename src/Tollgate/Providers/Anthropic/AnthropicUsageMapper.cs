using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.Anthropic;

/// <summary>
/// The single place where Anthropic's <c>usage</c> becomes canonical <see cref="Usage"/>. Anthropic's
/// <c>input_tokens</c> excludes the cache: the canonical input is <c>input_tokens + cache_creation_input_tokens +
/// cache_read_input_tokens</c>, with the cache reads and writes as its subsets. <c>cache_creation</c> splits writes
/// into 5-minute and 1-hour ones. Thinking tokens are billed as output and not reported apart (reasoning is null).
/// </summary>
public static class AnthropicUsageMapper
{
    public static Usage Map(JsonElement usage)
    {
        var counts = new AnthropicUsageCounts();
        counts.Apply(usage);
        return counts.ToUsage();
    }
}

/// <summary>
/// Anthropic's raw counts. In a stream, <c>message_start</c> gives them all and each <c>message_delta</c> repeats the
/// ones that changed, cumulatively: a later value replaces an earlier one, it is never added to it.
/// </summary>
public sealed class AnthropicUsageCounts
{
    private long? _input;
    private long? _cacheRead;
    private long? _cacheWrite;
    private long? _cacheWrite1h;
    private long? _output;

    public void Apply(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        _input = Count(usage, "input_tokens") ?? _input;
        _cacheRead = Count(usage, "cache_read_input_tokens") ?? _cacheRead;
        _cacheWrite = Count(usage, "cache_creation_input_tokens") ?? _cacheWrite;
        _output = Count(usage, "output_tokens") ?? _output;
        if (usage.TryGetProperty("cache_creation", out var creation) && creation.ValueKind == JsonValueKind.Object)
        {
            _cacheWrite1h = Count(creation, "ephemeral_1h_input_tokens") ?? _cacheWrite1h;
        }
    }

    public Usage ToUsage()
    {
        long? input = _input is null ? null : _input + (_cacheRead ?? 0) + (_cacheWrite ?? 0);
        return new Usage(input, _cacheRead, _cacheWrite, _output, null) { CacheWrite1hTokens = _cacheWrite1h };
    }

    private static long? Count(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;
}
