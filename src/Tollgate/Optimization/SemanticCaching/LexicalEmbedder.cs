using System.Numerics.Tensors;
using System.Text;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// An embedder that needs no model: the normalised question's words, word pairs and character trigrams (within words,
/// with boundary marks, so "giao hàng" and "giao hang" or "refund" and "refunds" share most features), each hashed into
/// one of <see cref="Dimensions"/> slots with a hashed sign, weights growing with the log of their count, L2-normalised.
/// Catches rewordings that reuse the words; misses paraphrases that do not (a model or a provider's embeddings do better).
/// </summary>
public sealed class LexicalEmbedder(int dimensions = 1024) : ITextEmbedder
{
    public string Name => "lexical";

    public int Dimensions { get; } = dimensions;

    public ValueTask<float[]?> EmbedAsync(string text, Ledger.Attribution? payer, CancellationToken cancellationToken) => ValueTask.FromResult<float[]?>(Embed(text));

    /// <summary>The vector of an already normalised text (<see cref="QueryText.Normalised"/>) or of raw text.</summary>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var counts = new Dictionary<uint, float>();
        void Feature(ReadOnlySpan<char> feature, float weight)
        {
            var hash = Fnv1a(feature);
            var slot = hash % (uint)Dimensions;
            var sign = (hash >> 31) == 0 ? 1f : -1f;
            counts[slot] = counts.GetValueOrDefault(slot) + (sign * weight);
        }

        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Span<char> gram = stackalloc char[3];
        for (var w = 0; w < words.Length; w++)
        {
            var word = words[w];
            Feature("w:" + word, 1f);
            if (w > 0)
            {
                Feature("b:" + words[w - 1] + " " + word, 0.7f);
            }

            var marked = "^" + word + "$";
            for (var i = 0; i + 3 <= marked.Length; i++)
            {
                marked.AsSpan(i, 3).CopyTo(gram);
                Feature(gram, 0.35f);
            }
        }

        var vector = new float[Dimensions];
        foreach (var (slot, value) in counts)
        {
            vector[slot] = MathF.Sign(value) * MathF.Log(1 + MathF.Abs(value));
        }

        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }

        return vector;
    }

    private static uint Fnv1a(ReadOnlySpan<char> text)
    {
        var hash = 2166136261u;
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(text.Length, 256))];
        var length = Encoding.UTF8.GetBytes(text[..Math.Min(text.Length, 256)], bytes);
        foreach (var b in bytes[..length])
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
