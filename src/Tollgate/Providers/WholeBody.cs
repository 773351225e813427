using System.Buffers;

namespace Tollgate.Providers;

/// <summary>
/// Reads a whole HTTP body — a client's request or a provider's answer — into an array of exactly its length: one of
/// known length directly, a chunked one through a pooled buffer (no growing copies), within a size limit.
/// </summary>
public static class WholeBody
{
    /// <exception cref="TooLargeException">The body is longer than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="EndOfStreamException">The body ended before its declared <paramref name="length"/>.</exception>
    public static async ValueTask<byte[]> ReadAsync(Stream stream, long? length, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (length is { } known)
        {
            if (known > maxBytes || known > Array.MaxLength)
            {
                throw new TooLargeException();
            }

            var exact = new byte[known];
            await stream.ReadExactlyAsync(exact, cancellationToken);
            return exact;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var filled = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
                if (filled > maxBytes)
                {
                    throw new TooLargeException();
                }

                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            return buffer.AsSpan(0, filled).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The body passed the size limit it was read under (an I/O failure to a reader of a provider's answer).</summary>
    public sealed class TooLargeException : IOException;
}
