using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Tollgate.Routing.Difficulty;

/// <summary>
/// A learned difficulty score over a prompt's embedding (the same embedders as the semantic cache): how much the strong
/// target adds over the cheap one, 0–1. Two kinds, both trained from labelled prompts by <c>tollgate route eval
/// --save-model</c> and saved as JSON with the embedder's name for a router's <c>difficulty: { model: FILE }</c>:
/// <list type="bullet">
/// <item><b>logistic</b>: a logistic regression (weights and a bias);</item>
/// <item><b>neighbours</b>: the mean gain of the <c>k</c> most similar labelled prompts (their vectors are in the file).</item>
/// </list>
/// </summary>
public sealed class DifficultyModel
{
    private readonly float[]? _weights;
    private readonly float _bias;
    private readonly float[][]? _examples;
    private readonly double[]? _gains;
    private readonly int _k;

    private DifficultyModel(string embedder, float[] weights, float bias)
    {
        Embedder = embedder;
        _weights = weights;
        _bias = bias;
        Dimensions = weights.Length;
    }

    private DifficultyModel(string embedder, float[][] examples, double[] gains, int k)
    {
        Embedder = embedder;
        _examples = examples;
        _gains = gains;
        _k = Math.Clamp(k, 1, examples.Length);
        Dimensions = examples[0].Length;
    }

    public string Embedder { get; }

    public int Dimensions { get; }

    public string Kind => _weights is not null ? "logistic" : "neighbours";

    /// <summary>The score (0–1) of a prompt's vector: higher, the more the strong target adds.</summary>
    public double Score(ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimensions)
        {
            throw new ArgumentException($"A vector of {vector.Length} dimensions, not the model's {Dimensions}: it was trained with another embedder.", nameof(vector));
        }

        if (_weights is not null)
        {
            return 1 / (1 + Math.Exp(-(TensorPrimitives.Dot(_weights, vector) + _bias)));
        }

        var nearest = new PriorityQueue<int, float>(_k + 1);
        for (var i = 0; i < _examples!.Length; i++)
        {
            nearest.Enqueue(i, TensorPrimitives.Dot(vector, _examples[i]));
            if (nearest.Count > _k)
            {
                nearest.Dequeue();
            }
        }

        var sum = 0.0;
        var count = nearest.Count;
        while (nearest.TryDequeue(out var i, out _))
        {
            sum += _gains![i];
        }

        return sum / count;
    }

    /// <summary>A neighbours model: the labelled prompts' vectors and gains, scored by the mean gain of the <paramref name="k"/> nearest.</summary>
    public static DifficultyModel Neighbours(string embedder, IReadOnlyList<float[]> vectors, IReadOnlyList<double> gain, int k)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(gain);
        if (vectors.Count == 0 || vectors.Count != gain.Count)
        {
            throw new ArgumentException("One label per vector, and at least one vector.", nameof(vectors));
        }

        return new DifficultyModel(embedder, [.. vectors], [.. gain], k);
    }

    /// <summary>
    /// A logistic model, fitted by full-batch gradient descent on the log loss with an L2 penalty; deterministic (no
    /// shuffling). <paramref name="gain"/> is each prompt's target in 0–1: 1 when only the strong target answers it
    /// right, 0 when only the cheap one does, 0.5 when both or neither do — so the score orders prompts by what the
    /// strong target adds.
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
            for (var n = 0; n < vectors.Count; n++)
            {
                var p = 1 / (1 + Math.Exp(-(TensorPrimitives.Dot(weights, vectors[n]) + bias)));
                var error = (float)(p - gain[n]);
                TensorPrimitives.MultiplyAdd(vectors[n], error, gradient, gradient);
                biasGradient += error;
            }

            for (var i = 0; i < dimensions; i++)
            {
                weights[i] -= (float)(rate * ((gradient[i] / vectors.Count) + (l2 * weights[i])));
            }

            bias -= rate * biasGradient / vectors.Count;
        }

        return new DifficultyModel(embedder, weights, (float)bias);
    }

    /// <summary>The model as JSON; vectors as base64 of their little-endian float32 bytes (a neighbours file of 7,000 MiniLM prompts is ~14 MB).</summary>
    public string ToJson() => _weights is not null
        ? JsonSerializer.Serialize(new Dictionary<string, object> { ["kind"] = Kind, ["embedder"] = Embedder, ["bias"] = _bias, ["weights"] = _weights })
        : JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["kind"] = Kind, ["embedder"] = Embedder, ["k"] = _k, ["gains"] = _gains!,
            ["vectors"] = _examples!.Select(v => Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan()))).ToArray(),
        });

    /// <summary>Reads a saved model; <see cref="FormatException"/> when the file is not one.</summary>
    public static DifficultyModel FromJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var embedder = root.GetProperty("embedder").GetString() ?? throw new FormatException("'embedder' is missing.");
            var kind = root.TryGetProperty("kind", out var k) ? k.GetString() : "logistic";
            if (kind == "neighbours")
            {
                var vectors = root.GetProperty("vectors").EnumerateArray().Select(v => MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(v.GetString() ?? string.Empty)).ToArray()).ToArray();
                var gains = root.GetProperty("gains").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                if (vectors.Length == 0 || vectors.Length != gains.Length || vectors.Any(v => v.Length == 0 || v.Length != vectors[0].Length || !v.All(float.IsFinite)) || !gains.All(double.IsFinite))
                {
                    throw new FormatException("A neighbours model needs vectors of one length with finite values, one gain each.");
                }

                return new DifficultyModel(embedder, vectors, gains, root.GetProperty("k").GetInt32());
            }

            var weights = root.GetProperty("weights").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var bias = root.GetProperty("bias").GetSingle();
            if (weights.Length == 0 || !weights.All(float.IsFinite) || !float.IsFinite(bias))
            {
                throw new FormatException("The weights must be finite numbers, at least one.");
            }

            return new DifficultyModel(embedder, weights, bias);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException("Not a difficulty model: " + ex.Message, ex);
        }
    }
}
