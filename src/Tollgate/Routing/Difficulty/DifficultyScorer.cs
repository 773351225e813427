using System.Numerics.Tensors;
using Tollgate.Ledger;
using Tollgate.Optimization.SemanticCaching;

namespace Tollgate.Routing.Difficulty;

/// <summary>
/// Scores a prompt's difficulty for a router: embeds its last user message with the router's embedder (the semantic
/// cache's implementations, shared) and compares it with the example centroids or runs the trained model. The example
/// centroids are embedded on first use. A prompt that cannot be embedded (no user text; an embeddings alias that
/// failed) gets no score, and the router goes on to its next strategy.
/// </summary>
/// <remarks>Without an embedder (replaying records offline when it is an alias of the gateway) only kept vectors are scored, by a trained model.</remarks>
public sealed class DifficultyScorer(DifficultySettings settings, ITextEmbedder? embedder, DifficultyModel? model)
{
    private readonly SemaphoreSlim _centroidGate = new(1, 1);
    private (float[] Simple, float[] Complex)? _centroids;

    public DifficultySettings Settings => settings;

    /// <summary>The embedder's name (a vector kept on a record is only scored by a router with the same one).</summary>
    public string EmbedderName => settings.Embedder;

    /// <summary>The score, whether it is past the bar, and the prompt's vector; null when the prompt could not be scored.</summary>
    public async ValueTask<(double Score, bool Strong, float[] Vector)?> ScoreAsync(string? text, Attribution payer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text) || await EmbedAsync(text, payer, cancellationToken) is not { } vector)
        {
            return null;
        }

        return await ScoreVectorAsync(vector, payer, cancellationToken) is { } scored ? (scored.Score, scored.Strong, vector) : null;
    }

    /// <summary>The score of a vector this scorer's embedder made (a replayed record's), and whether it is past the bar.</summary>
    public async ValueTask<(double Score, bool Strong)?> ScoreVectorAsync(float[] vector, Attribution payer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vector);

        if (model is not null)
        {
            if (vector.Length != model.Dimensions)
            {
                return null;
            }

            var probability = model.Score(vector);
            return (probability, probability >= settings.Threshold);
        }

        if (await CentroidsAsync(payer, cancellationToken) is not { } centroids || centroids.Simple.Length != vector.Length)
        {
            return null;
        }

        var margin = TensorPrimitives.Dot(vector, centroids.Complex) - TensorPrimitives.Dot(vector, centroids.Simple);
        return (margin, margin > settings.Margin);
    }

    private ValueTask<float[]?> EmbedAsync(string text, Attribution? payer, CancellationToken cancellationToken) =>
        embedder is null ? ValueTask.FromResult<float[]?>(null) : embedder.EmbedAsync(InputFor(embedder, text), payer, cancellationToken);

    /// <summary>What an embedder is given of a prompt: the lexical one its normalised words, a model the text as written.</summary>
    public static string InputFor(ITextEmbedder embedder, string text) => embedder is LexicalEmbedder ? QueryText.NormalisedOf(text) : text;

    private async ValueTask<(float[] Simple, float[] Complex)?> CentroidsAsync(Attribution payer, CancellationToken cancellationToken)
    {
        if (_centroids is { } ready)
        {
            return ready;
        }

        await _centroidGate.WaitAsync(cancellationToken);
        try
        {
            if (_centroids is null && await CentroidAsync(settings.Simple, payer, cancellationToken) is { } simple
                && await CentroidAsync(settings.Complex, payer, cancellationToken) is { } complex && simple.Length == complex.Length)
            {
                _centroids = (simple, complex);
            }

            return _centroids;
        }
        finally
        {
            _centroidGate.Release();
        }
    }

    /// <summary>The unit-length mean of the examples' vectors; null when any could not be embedded.</summary>
    private async ValueTask<float[]?> CentroidAsync(IReadOnlyList<string> examples, Attribution payer, CancellationToken cancellationToken)
    {
        float[]? sum = null;
        foreach (var example in examples)
        {
            if (await EmbedAsync(example, payer, cancellationToken) is not { } vector || (sum is not null && sum.Length != vector.Length))
            {
                return null;
            }

            sum ??= new float[vector.Length];
            TensorPrimitives.Add(sum, vector, sum);
        }

        if (sum is null || TensorPrimitives.Norm(sum) is var norm && norm == 0)
        {
            return null;
        }

        TensorPrimitives.Divide(sum, norm, sum);
        return sum;
    }
}
