using System.Buffers;

namespace Tollgate.Gateway.Idempotency;

/// <summary>
/// The right of one running request to answer under an idempotency key. A successful answer is kept before its
/// last byte goes to the client; a failed one is not (the client may retry with the same key). Disposing frees the
/// key for the next request either way. For a stream it also collects the events sent, up to the size limit.
/// </summary>
public sealed class IdempotencyClaim(IdempotencyGate gate, string caller, string key, byte[] fingerprint) : IAsyncDisposable
{
    public const string StreamContentType = "text/event-stream; charset=utf-8";
    private ArrayBufferWriter<byte>? _stream;
    private long _streamBytes;

    /// <summary>Whether the answer has been kept.</summary>
    public bool Kept { get; private set; }

    /// <summary>Adds an event of a streamed answer, as sent to the client. Past the size limit nothing more is held.</summary>
    public void Capture(ReadOnlySpan<byte> sseEvent)
    {
        _streamBytes += sseEvent.Length;
        if (_streamBytes > gate.MaxResponseBytes)
        {
            _stream = null;
            return;
        }

        _stream ??= new ArrayBufferWriter<byte>(4096);
        _stream.Write(sseEvent);
    }

    /// <summary>Keeps a whole (non-streamed) answer.</summary>
    public Task KeepAsync(string requestId, int statusCode, string contentType, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body) =>
        KeepAsync(requestId, statusCode, contentType, headers, body.Length, body);

    /// <summary>Keeps the streamed answer captured so far (the whole stream, once its end event is in).</summary>
    public Task KeepStreamAsync(string requestId, IReadOnlyList<KeyValuePair<string, string>> headers) =>
        KeepAsync(requestId, 200, StreamContentType, headers, _streamBytes, _stream?.WrittenMemory ?? ReadOnlyMemory<byte>.Empty);

    public ValueTask DisposeAsync() => gate.ReleaseAsync(caller, key);

    private async Task KeepAsync(string requestId, int statusCode, string contentType, IReadOnlyList<KeyValuePair<string, string>> headers, long length, ReadOnlyMemory<byte> body)
    {
        if (Kept)
        {
            return;
        }

        Kept = true;
        if (length > gate.MaxResponseBytes)
        {
            gate.ReportTooLarge(requestId, length);
            return;
        }

        await gate.KeepAsync(caller, key, new StoredResponse(fingerprint, requestId, gate.Now, statusCode, contentType, headers, body.ToArray()));
    }
}
