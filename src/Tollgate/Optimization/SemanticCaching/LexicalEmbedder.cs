using System.Numerics.Tensors;
using System.Text;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// An embedder that needs no model: the normalised question's words, word pairs and character trigrams (within words,
/// with boundary marks, so "refund" and "refunds" share most features), each hashed into one of
/// <see cref="Dimensions"/> slots with a hashed sign, weights growing with the log of their count, L2-normalised. Words,
/// pairs and trigrams are taken without diacritics, and a word that has them counts once more as written: "giao hàng"
/// and "giao hang" (Vietnamese is often typed without them) share all but the tones; text without diacritics (all of
/// English) gives the same vector as before they were handled.
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

        // Words, pairs and trigrams as written without diacritics, plus the word as written when it has them: two
        // Vietnamese questions share what they share, tones included; the same typed without diacritics shares all
        // but the tones.
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var bare = Array.ConvertAll(words, w => QueryText.WithoutDiacritics(w) ?? w);
        Span<char> gram = stackalloc char[3];
        for (var w = 0; w < words.Length; w++)
        {
            Feature("w:" + bare[w], 1f);
            if (!ReferenceEquals(bare[w], words[w]))
            {
                Feature("w:" + words[w], 1f);
            }

            if (w > 0)
            {
                Feature("b:" + bare[w - 1] + " " + bare[w], 0.7f);
            }

            var marked = "^" + bare[w] + "$";
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
