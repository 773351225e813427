using System.Numerics.Tensors;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// What a <see cref="PairScorer"/> sees of two questions: their vectors compared component by component (products and
/// absolute differences, which say in which directions of meaning they agree and differ, where the cosine only sums
/// them), the cosine, and what the words say: the lexical embedder's similarity of the normalised words, the share of
/// words they share, the words only one has, the difference in length, and whether the numbers, the names or a negation
/// differ (the guards' facts). Symmetric: the order of the two questions does not matter. Which words they are is not a
/// feature: a model given the hashed words themselves learnt the questions it was trained on, and on questions it had
/// not seen did worse than without them (docs/CACHING.md).
/// </summary>
public static class PairFeatures
{
    /// <summary>The features besides the vectors' components and their cosine.</summary>
    public const int WordFeatures = 7;

    private static readonly LexicalEmbedder Lexical = new();

    /// <summary>How many features two vectors of <paramref name="dimensions"/> give.</summary>
    public static int Count(int dimensions) => (2 * dimensions) + 1 + WordFeatures;

    /// <summary>Fills <paramref name="features"/> (of <see cref="Count"/> length) for the pair.</summary>
    public static void Fill(ReadOnlySpan<float> a, ReadOnlySpan<float> b, QueryText textA, QueryText textB, Span<float> features)
    {
        ArgumentNullException.ThrowIfNull(textA);
        ArgumentNullException.ThrowIfNull(textB);
        var dimensions = a.Length;
        if (b.Length != dimensions || features.Length != Count(dimensions))
        {
            throw new ArgumentException("Two vectors of one length and room for their features.", nameof(features));
        }

        // Unit vectors' components shrink as the dimensions grow: scaled so that a typical feature is of order one
        // whatever the embedder (×20 and ×5 at MiniLM's 384).
        var products = features[..dimensions];
        var differences = features.Slice(dimensions, dimensions);
        TensorPrimitives.Multiply(a, b, products);
        TensorPrimitives.Multiply(products, dimensions / 19.2f, products);
        TensorPrimitives.Subtract(a, b, differences);
        TensorPrimitives.Abs(differences, differences);
        TensorPrimitives.Multiply(differences, MathF.Sqrt(dimensions) / 4, differences);
        var at = 2 * dimensions;
        var (lexicalA, lexicalB) = (Lexical.Embed(textA.Normalised), Lexical.Embed(textB.Normalised));
        features[at++] = TensorPrimitives.Dot(a, b);
        features[at++] = TensorPrimitives.Dot(lexicalA, lexicalB);
        var (wordsA, wordsB) = (textA.Words, textB.Words);
        var shared = wordsA.Count(wordsB.Contains);
        var union = wordsA.Count + wordsB.Count - shared;
        features[at++] = union == 0 ? 1 : shared / (float)union;
        features[at++] = (wordsA.Count + wordsB.Count - (2 * shared)) / 5f;
        features[at++] = Math.Abs(wordsA.Count - wordsB.Count) / 10f;
        features[at++] = textA.Numbers.SetEquals(textB.Numbers) ? 0 : 1;
        features[at++] = textA.Names.SetEquals(textB.Names) ? 0 : 1;
        features[at] = textB.Conflict(textA) is null ? 0 : 1;
    }
}
