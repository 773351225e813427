using System.Numerics.Tensors;
using System.Text.Json;

namespace Tollgate.Routing.Difficulty;

/// <summary>
/// A learned difficulty score: a logistic regression over a prompt's embedding (the same embedders as the semantic
/// cache) that gives the probability that the cheap target gets the prompt wrong where the strong one gets it right.
/// Trained by <c>tollgate route train</c> from labelled prompts and saved as JSON (the embedder's name, its weights and
/// bias) for a router's <c>difficulty: { model: FILE }</c>.
/// </summary>
public sealed class DifficultyModel(string embedder, float[] weights, float bias)
{
    public string Embedder { get; } = embedder;

    public int Dimensions => weights.Length;

    /// <summary>The probability (0–1) that the prompt needs the strong target.</summary>
    public double Score(ReadOnlySpan<float> vector)
    {
        if (vector.Length != weights.Length)
        {
            throw new ArgumentException($"A vector of {vector.Length} dimensions, not the model's {weights.Length}: it was trained with another embedder.", nameof(vector));
        }

        return 1 / (1 + Math.Exp(-(TensorPrimitives.Dot(weights, vector) + bias)));
    }

    /// <summary>
    /// Fits the weights by full-batch gradient descent on the log loss with an L2 penalty; deterministic (no shuffling).
    /// <paramref name="gain"/> is each prompt's target in 0–1: 1 when only the strong target answers it right, 0 when
    /// only the cheap one does, 0.5 when both or neither do — so the score orders prompts by what the strong target adds.
    /// </summary>
    public static DifficultyModel Train(string embedder, IReadOnlyList<float[]> vectors, IReadOnlyList<double> gain, double l2 = 1e-3, int epochs = 400, double rate = 2.0)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(gain);
        if (vectors.Count == 0 || vectors.Count != gain.Count)
        {
            throw new ArgumentException("One label per vector, and at least one vector.", nameof(vectors));
        }

        var dimensions = vectors[0].Length;
        var weights = new float[dimensions];
        var gradient = new float[dimensions];
        var bias = 0.0;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            Array.Clear(gradient);
            var biasGradient = 0.0;
            var total = 0.0;
            for (var n = 0; n < vectors.Count; n++)
            {
                var p = 1 / (1 + Math.Exp(-(TensorPrimitives.Dot(weights, vectors[n]) + bias)));
                var error = (float)(p - gain[n]);
                TensorPrimitives.MultiplyAdd(vectors[n], error, gradient, gradient);
                biasGradient += error;
                total += 1;
            }

            for (var i = 0; i < dimensions; i++)
            {
                weights[i] -= (float)(rate * ((gradient[i] / total) + (l2 * weights[i])));
            }

            bias -= rate * biasGradient / total;
        }

        return new DifficultyModel(embedder, weights, (float)bias);
    }

    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object> { ["embedder"] = Embedder, ["bias"] = bias, ["weights"] = weights });

    /// <summary>Reads a saved model; <see cref="FormatException"/> when the file is not one.</summary>
    public static DifficultyModel FromJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var embedder = root.GetProperty("embedder").GetString() ?? throw new FormatException("'embedder' is missing.");
            var weights = root.GetProperty("weights").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var bias = root.GetProperty("bias").GetSingle();
            if (weights.Length == 0 || !weights.All(float.IsFinite) || !float.IsFinite(bias))
            {
                throw new FormatException("The weights must be finite numbers, at least one.");
            }

            return new DifficultyModel(embedder, weights, bias);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException("Not a difficulty model: " + ex.Message, ex);
        }
    }
}
