using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Tests.Support;

/// <summary>An <see cref="IStreamSink"/> that keeps every event it is given.</summary>
internal sealed class RecordingSink : IStreamSink
{
    public List<byte[]> Events { get; } = [];

    public int? TrailerWrittenAfter { get; private set; }

    public Task BeginAsync(IReadOnlyList<KeyValuePair<string, string>> upstreamHeaders, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask WriteEventAsync(ReadOnlyMemory<byte> sseEvent, CancellationToken cancellationToken)
    {
        Events.Add(sseEvent.ToArray());
        return ValueTask.CompletedTask;
    }

    public ValueTask FinishAsync(Usage usage, long outputCharacters, CancellationToken cancellationToken)
    {
        TrailerWrittenAfter = Events.Count;
        return ValueTask.CompletedTask;
    }
}
