using Tollgate.Providers;
using Xunit;

namespace Tollgate.Tests.Gateway;

public sealed class WholeBodyTests
{
    /// <summary>A stream that hands out at most a few bytes per read, as a chunked body arrives.</summary>
    private sealed class Trickle(byte[] data, int perRead) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, perRead)], cancellationToken);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16 * 1024)]
    [InlineData(100_000)]
    public async Task A_body_of_unknown_length_comes_back_whole_and_exact(int size)
    {
        var data = Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray();

        var read = await WholeBody.ReadAsync(new Trickle(data, 1000), length: null, maxBytes: size, CancellationToken.None);

        Assert.Equal(data, read);
    }

    [Fact]
    public async Task One_byte_over_the_limit_is_refused_with_or_without_a_length()
    {
        var data = new byte[2049];

        await Assert.ThrowsAsync<WholeBody.TooLargeException>(() => WholeBody.ReadAsync(new Trickle(data, 300), null, 2048, CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<WholeBody.TooLargeException>(() => WholeBody.ReadAsync(new MemoryStream(data), data.Length, 2048, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task A_body_shorter_than_its_declared_length_is_an_end_of_stream()
    {
        await Assert.ThrowsAsync<EndOfStreamException>(() => WholeBody.ReadAsync(new MemoryStream(new byte[10]), 20, 100, CancellationToken.None).AsTask());
    }
}
