using Tollgate.Ledger;
using Xunit;

namespace Tollgate.Tests.Ledger;

/// <summary>A kept prompt vector: half precision, its embedder's name with it, and bytes it did not write read as nothing.</summary>
public sealed class PromptVectorTests
{
    [Fact]
    public void A_vector_round_trips_at_half_precision_with_its_embedder()
    {
        var values = Enumerable.Range(0, 384).Select(i => MathF.Sin(i) / 20).ToArray();
        var vector = PromptVector.Of("alias:emb", values);
        var back = PromptVector.Decode(vector.Encode());

        Assert.Equal(vector, back);
        Assert.Equal(("alias:emb", 384, 2 + 9 + 2 + 768), (back!.Embedder, back.Dimensions, vector.Encode().Length));
        Assert.All(values.Zip(back.ToFloats()), p => Assert.InRange(p.Second - p.First, -1e-3f * Math.Max(1, Math.Abs(p.First)), 1e-3f * Math.Max(1, Math.Abs(p.First))));
    }

    [Fact]
    public void Bytes_it_did_not_write_read_as_nothing_never_as_an_error()
    {
        var random = new Random(7);
        var valid = PromptVector.Of("lexical", [0.5f, -0.5f]).Encode();
        for (var i = 0; i < 5_000; i++)
        {
            var bytes = i % 2 == 0 ? new byte[random.Next(0, 40)] : (byte[])valid.Clone();
            random.NextBytes(i % 2 == 0 ? bytes : bytes.AsSpan(random.Next(bytes.Length), 1));
            if (i % 3 == 0)
            {
                bytes = bytes[..random.Next(bytes.Length + 1)];
            }

            var decoded = PromptVector.Decode(bytes);
            Assert.True(decoded is null || decoded.Encode().AsSpan().SequenceEqual(bytes));
        }

        Assert.Null(PromptVector.Decode(valid.AsSpan(0, valid.Length - 1)));
        Assert.Null(PromptVector.Decode([]));
    }
}
