using Tollgate.Ledger;

namespace Tollgate.Analytics.Planning;

/// <summary>
/// A workload's busiest moment: the requests and output tokens a second it asks for then. A GPU serves a fixed number of
/// output tokens a second, so the peak — not the day's average — says how many GPUs must be up while it lasts.
/// </summary>
public sealed record PeakLoad(decimal RequestsPerSecond, decimal OutputTokensPerSecond)
{
    /// <summary>A peak given as requests a second, each asking for <paramref name="outputTokensPerRequest"/> output tokens on average.</summary>
    public static PeakLoad Of(decimal requestsPerSecond, decimal outputTokensPerRequest) => new(requestsPerSecond, requestsPerSecond * outputTokensPerRequest);

    /// <summary>GPUs that serve the peak at <paramref name="outputTokensPerSecondPerGpu"/> each: at least one.</summary>
    public decimal GpusNeeded(decimal outputTokensPerSecondPerGpu) =>
        outputTokensPerSecondPerGpu <= 0 ? 1 : Math.Max(1, Math.Ceiling(OutputTokensPerSecond / outputTokensPerSecondPerGpu));
}

/// <summary>
/// Finds the ledger's busiest minute (by output tokens; clock minutes, UTC) from records given oldest first, and its
/// rate a second: a minute is long enough to smooth one burst of requests, short enough that a GPU must keep up with it.
/// </summary>
public sealed class BusiestMinute
{
    private long _minute = long.MinValue;
    private long _requests;
    private long _outputTokens;
    private (long Requests, long OutputTokens) _busiest;

    public void Add(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var minute = record.Timestamp.ToUnixTimeSeconds() / 60;
        if (minute != _minute)
        {
            _minute = minute;
            _requests = 0;
            _outputTokens = 0;
        }

        _requests++;
        _outputTokens += record.Usage.OutputTokens ?? 0;
        if (_outputTokens > _busiest.OutputTokens || (_outputTokens == _busiest.OutputTokens && _requests > _busiest.Requests))
        {
            _busiest = (_requests, _outputTokens);
        }
    }

    /// <summary>The busiest minute's requests and output tokens a second; null before any record.</summary>
    public PeakLoad? Peak => _minute == long.MinValue ? null : new PeakLoad(_busiest.Requests / 60m, _busiest.OutputTokens / 60m);
}
