using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Tollgate.Bench;

/// <summary>
/// Which types the process allocates, from the runtime's allocation ticks (one event per ~100 KiB allocated, naming the
/// type of the object that crossed the mark): over many requests the ticks per type are proportional to the bytes
/// allocated of that type. For finding what a code path allocates; <c>--allocations</c> turns it on.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _counting;

    public void Start()
    {
        _bytes.Clear();
        _counting = true;
    }

    public IReadOnlyList<(string Type, long Bytes)> Stop()
    {
        _counting = false;
        return [.. _bytes.OrderByDescending(p => p.Value).Select(p => (p.Key, p.Value))];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_counting || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        var type = eventData.PayloadNames?.IndexOf("TypeName") is >= 0 and var t ? eventData.Payload[t] as string : null;
        var amount = eventData.PayloadNames?.IndexOf("AllocationAmount64") is >= 0 and var a ? Convert.ToInt64(eventData.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 0;
        _bytes.AddOrUpdate(type ?? "?", amount, (_, sum) => sum + amount);
    }
}
