namespace Tollgate.Providers;

/// <summary>Where a provider adapter writes a stream for the client, event by event, without buffering it.</summary>
public interface IStreamSink
{
    /// <summary>Sends the response headers, with the provider's passed-through ones; called once, just before the first event.</summary>
    Task BeginAsync(IReadOnlyList<KeyValuePair<string, string>> upstreamHeaders, CancellationToken cancellationToken);

    /// <summary>Writes one whole SSE event (with its blank-line terminator) and flushes it to the client.</summary>
    ValueTask WriteEventAsync(ReadOnlyMemory<byte> sseEvent, CancellationToken cancellationToken);

    /// <summary>Called once usage is final and before the stream's end marker, so the gateway can add a cost comment.</summary>
    ValueTask WriteTrailerAsync(Metering.Usage usage, CancellationToken cancellationToken);
}
