namespace Tollgate.Providers;

/// <summary>Where a provider adapter writes a stream for the client, event by event, without buffering it.</summary>
public interface IStreamSink
{
    /// <summary>Sends the response headers, with the provider's passed-through ones; called once, just before the first event.</summary>
    Task BeginAsync(IReadOnlyList<KeyValuePair<string, string>> upstreamHeaders, CancellationToken cancellationToken);

    /// <summary>Writes one whole SSE event (with its blank-line terminator) and flushes it to the client.</summary>
    ValueTask WriteEventAsync(ReadOnlyMemory<byte> sseEvent, CancellationToken cancellationToken);

    /// <summary>
    /// Called once, when the stream's end has arrived and before its end marker is forwarded: the gateway records the
    /// exchange here (so no client sees a complete stream whose usage record is not yet durable) and may add a trailer.
    /// <paramref name="usage"/> has null output tokens when the provider never reported them.
    /// </summary>
    ValueTask FinishAsync(Metering.Usage usage, long outputCharacters, CancellationToken cancellationToken);
}
