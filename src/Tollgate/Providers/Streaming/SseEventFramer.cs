using System.Buffers;

namespace Tollgate.Providers.Streaming;

/// <summary>
/// Splits a byte stream of server-sent events into whole events. An event ends at a blank line (LF LF or LF CR LF);
/// the returned event includes its terminator so that it can be forwarded byte for byte.
/// </summary>
public static class SseEventFramer
{
    public static bool TryReadEvent(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> sseEvent)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryAdvanceTo((byte)'\n', advancePastDelimiter: true))
        {
            if (reader.IsNext((byte)'\n', advancePast: true) || reader.IsNext("\r\n"u8, advancePast: true))
            {
                sseEvent = buffer.Slice(0, reader.Position);
                buffer = buffer.Slice(reader.Position);
                return true;
            }
        }

        sseEvent = default;
        return false;
    }

    /// <summary>
    /// The payload of an event's <c>data:</c> lines (joined by LF, as the SSE specification says), or empty when it has none.
    /// Comment lines (starting with ':') and other fields are skipped.
    /// </summary>
    public static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> sseEvent, ref byte[]? scratch)
    {
        ReadOnlySpan<byte> single = default;
        var count = 0;
        var length = 0;
        foreach (var range in sseEvent.Split((byte)'\n'))
        {
            var line = TrimCarriageReturn(sseEvent[range]);
            if (line.StartsWith("data:"u8))
            {
                var value = line[5..];
                if (!value.IsEmpty && value[0] == (byte)' ')
                {
                    value = value[1..];
                }

                count++;
                if (count == 1)
                {
                    single = value;
                }

                length += value.Length + 1;
            }
        }

        if (count <= 1)
        {
            return single;
        }

        scratch = scratch is null || scratch.Length < length ? new byte[length] : scratch;
        var written = 0;
        foreach (var range in sseEvent.Split((byte)'\n'))
        {
            var line = TrimCarriageReturn(sseEvent[range]);
            if (line.StartsWith("data:"u8))
            {
                var value = line[5..];
                if (!value.IsEmpty && value[0] == (byte)' ')
                {
                    value = value[1..];
                }

                if (written > 0)
                {
                    scratch[written++] = (byte)'\n';
                }

                value.CopyTo(scratch.AsSpan(written));
                written += value.Length;
            }
        }

        return scratch.AsSpan(0, written);
    }

    private static ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) =>
        !line.IsEmpty && line[^1] == (byte)'\r' ? line[..^1] : line;
}
