using System.Buffers;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// A request the cache could not answer and may keep the answer of: its key and tenant and, for a stream, the events
/// sent to the client, collected up to a size beyond which the answer is not kept.
/// </summary>
public sealed class CacheFill(string key, string tenant, string alias, long maxBytes)
{
    private ArrayBufferWriter<byte>? _events;
    private long _eventBytes;

    public string Key { get; } = key;
    public string Tenant { get; } = tenant;
    public string Alias { get; } = alias;

    /// <summary>The stream's events collected (null when nothing was collected or it outgrew the limit).</summary>
    public ReadOnlyMemory<byte>? Events => _events?.WrittenMemory;

    /// <summary>Adds an event of a streamed answer, as sent to the client.</summary>
    public void Capture(ReadOnlySpan<byte> sseEvent)
    {
        _eventBytes += sseEvent.Length;
        if (_eventBytes > maxBytes)
        {
            _events = null;
            return;
        }

        (_events ??= new ArrayBufferWriter<byte>(4096)).Write(sseEvent);
    }

    /// <summary>Whether the stream outgrew what may be kept.</summary>
    public bool Overflowed => _eventBytes > maxBytes;
}
