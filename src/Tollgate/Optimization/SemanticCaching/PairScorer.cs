using System.Numerics.Tensors;
using System.Text.Json;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// A learned judge of whether two questions ask the same thing, 0–1, over their <see cref="PairFeatures"/>: a small
/// neural network (one hidden layer of rectified units, a logistic output) trained from labelled pairs by
/// <c>tollgate cache eval --save-pair-model FILE</c> and named by the semantic cache's <c>pair_model:</c>. Where the
/// cosine weighs every direction of meaning alike, the network learns which agreements and differences decide
/// "same question" (on QQP: 0.90 precision at recall 0.12 by cosine, see docs/CACHING.md for what it reaches). The file
/// records the embedder it was trained with; it only judges vectors of that embedder.
/// </summary>
public sealed class PairScorer
{
    /// <summary>The file's kind: the second feature set (no hashed word components).</summary>
    private const string Kind = "pair-mlp-2";

    private readonly float[] _hiddenWeights;
    private readonly float[] _hiddenBiases;
    private readonly float[] _outputWeights;
    private float _outputBias;

    private PairScorer(string embedder, int dimensions, float[] hiddenWeights, float[] hiddenBiases, float[] outputWeights, float outputBias)
    {
        Embedder = embedder;
        Dimensions = dimensions;
        _hiddenWeights = hiddenWeights;
        _hiddenBiases = hiddenBiases;
        _outputWeights = outputWeights;
        _outputBias = outputBias;
    }

    /// <summary>The embedder whose vectors it judges (<c>minilm</c>, <c>alias:NAME</c>, …).</summary>
    public string Embedder { get; }

    /// <summary>The length of those vectors.</summary>
    public int Dimensions { get; }

    /// <summary>Hidden units.</summary>
    public int Hidden => _hiddenBiases.Length;

    private int FeatureCount => PairFeatures.Count(Dimensions);

    /// <summary>How likely the two questions ask the same thing, 0–1.</summary>
    public double Score(ReadOnlySpan<float> a, ReadOnlySpan<float> b, QueryText textA, QueryText textB)
    {
        if (a.Length != Dimensions || b.Length != Dimensions)
        {
            throw new ArgumentException($"Vectors of {a.Length} and {b.Length} dimensions, not the model's {Dimensions}: it was trained with another embedder.", nameof(a));
        }

        var features = new float[FeatureCount];
        PairFeatures.Fill(a, b, textA, textB, features);
        return Score(features, new float[Hidden]);
    }

    /// <summary>
    /// Trains a scorer on labelled pairs (vectors of <paramref name="embedder"/> and their texts): Adam on the log loss
    /// with a small L2 penalty, in batches of 64, for <paramref name="epochs"/> passes. Deterministic for a seed.
    /// </summary>
    public static PairScorer Train(
        string embedder, IReadOnlyList<(float[] A, float[] B, QueryText TextA, QueryText TextB, bool Same)> pairs, int hidden = 128, int epochs = 4, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0 || pairs.Any(p => p.A.Length == 0 || p.A.Length != pairs[0].A.Length || p.B.Length != p.A.Length))
        {
            throw new ArgumentException("At least one pair, every vector of one length.", nameof(pairs));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        var dimensions = pairs[0].A.Length;
        var count = PairFeatures.Count(dimensions);
        var random = new Random(seed);
        var scale = Math.Sqrt(6.0 / (count + hidden));
        var hiddenWeights = new float[hidden * count];
        for (var i = 0; i < hiddenWeights.Length; i++)
        {
            hiddenWeights[i] = (float)(((random.NextDouble() * 2) - 1) * scale);
        }

        var outputWeights = new float[hidden];
        for (var i = 0; i < hidden; i++)
        {
            outputWeights[i] = (float)(((random.NextDouble() * 2) - 1) * Math.Sqrt(6.0 / (hidden + 1)));
        }

        var model = new PairScorer(embedder, dimensions, hiddenWeights, new float[hidden], outputWeights, 0);
        new Training(model).Run(pairs, epochs, random);
        return model;
    }

    /// <summary>The model as JSON: the embedder, the vectors' length and the network's weights.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["kind"] = Kind,
        ["embedder"] = Embedder,
        ["dimensions"] = Dimensions,
        ["hidden_weights"] = _hiddenWeights,
        ["hidden_biases"] = _hiddenBiases,
        ["output_weights"] = _outputWeights,
        ["output_bias"] = _outputBias,
    });

    /// <summary>Reads a saved model; <see cref="FormatException"/> when the file is not one.</summary>
    public static PairScorer FromJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var kind = root.GetProperty("kind").GetString();
            if (kind == "pair-mlp")
            {
                throw new FormatException("A pair model of an earlier version, whose features included the hashed words themselves: train it again (tollgate cache eval --save-pair-model).");
            }

            if (kind != Kind)
            {
                throw new FormatException($"Not a pair model ('kind' is not '{Kind}').");
            }

            var embedder = root.GetProperty("embedder").GetString() ?? throw new FormatException("'embedder' is missing.");
            var dimensions = root.GetProperty("dimensions").GetInt32();
            float[] Floats(string name) => [.. root.GetProperty(name).EnumerateArray().Select(v => v.GetSingle())];
            var hiddenWeights = Floats("hidden_weights");
            var hiddenBiases = Floats("hidden_biases");
            var outputWeights = Floats("output_weights");
            var outputBias = root.GetProperty("output_bias").GetSingle();
            if (dimensions < 1 || hiddenBiases.Length == 0 || outputWeights.Length != hiddenBiases.Length
                || hiddenWeights.Length != (long)hiddenBiases.Length * PairFeatures.Count(dimensions)
                || !hiddenWeights.All(float.IsFinite) || !hiddenBiases.All(float.IsFinite) || !outputWeights.All(float.IsFinite) || !float.IsFinite(outputBias))
            {
                throw new FormatException("The network's weights do not fit its dimensions, or are not finite numbers.");
            }

            return new PairScorer(embedder, dimensions, hiddenWeights, hiddenBiases, outputWeights, outputBias);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException("Not a pair model: " + ex.Message, ex);
        }
    }

    /// <summary>The network's output for one feature vector; <paramref name="activations"/> receives the hidden layer's.</summary>
    private double Score(ReadOnlySpan<float> features, Span<float> activations)
    {
        var count = features.Length;
        for (var k = 0; k < activations.Length; k++)
        {
            var z = TensorPrimitives.Dot(_hiddenWeights.AsSpan(k * count, count), features) + _hiddenBiases[k];
            activations[k] = z > 0 ? z : 0;
        }

        return 1 / (1 + Math.Exp(-(TensorPrimitives.Dot(_outputWeights, activations) + _outputBias)));
    }

    /// <summary>Adam over the network's weights (learning rate 0.001, L2 1e-5).</summary>
    private sealed class Training(PairScorer model)
    {
        private const int Batch = 64;
        private const float Rate = 0.001f;
        private const float L2 = 1e-5f;
        private readonly Parameter[] _parameters =
        [
            new(model._hiddenWeights), new(model._hiddenBiases), new(model._outputWeights), new([model._outputBias]),
        ];

        private int _step;

        /// <summary>
        /// Passes over the pairs in a fresh order each time; a pair's features are computed when it comes up (kept for all
        /// pairs they would take ~11 KB a pair with MiniLM: 360 MB for QQP's 32,000 training pairs).
        /// </summary>
        public void Run(IReadOnlyList<(float[] A, float[] B, QueryText TextA, QueryText TextB, bool Same)> pairs, int epochs, Random random)
        {
            var activations = new float[model.Hidden];
            var count = model.FeatureCount;
            var features = new float[count];
            var order = Enumerable.Range(0, pairs.Count).ToArray();
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                random.Shuffle(order);
                for (var start = 0; start < order.Length; start += Batch)
                {
                    foreach (var parameter in _parameters)
                    {
                        Array.Clear(parameter.Gradient);
                    }

                    var size = Math.Min(Batch, order.Length - start);
                    for (var n = start; n < start + size; n++)
                    {
                        var pair = pairs[order[n]];
                        PairFeatures.Fill(pair.A, pair.B, pair.TextA, pair.TextB, features);
                        var label = pair.Same ? 1 : 0;
                        model._outputBias = _parameters[3].Values[0];
                        var error = (float)(model.Score(features, activations) - label) / size;
                        _parameters[3].Gradient[0] += error;
                        for (var k = 0; k < activations.Length; k++)
                        {
                            _parameters[2].Gradient[k] += error * activations[k];
                            if (activations[k] > 0)
                            {
                                var back = error * model._outputWeights[k];
                                _parameters[1].Gradient[k] += back;
                                var row = _parameters[0].Gradient.AsSpan(k * count, count);
                                TensorPrimitives.MultiplyAdd(features, back, row, row);
                            }
                        }
                    }

                    Update();
                }
            }

            model._outputBias = _parameters[3].Values[0];
        }

        private void Update()
        {
            _step++;
            var correction1 = 1 - MathF.Pow(0.9f, _step);
            var correction2 = 1 - MathF.Pow(0.999f, _step);
            foreach (var (values, gradient, first, second) in _parameters)
            {
                for (var i = 0; i < values.Length; i++)
                {
                    var g = gradient[i] + (L2 * values[i]);
                    first[i] = (0.9f * first[i]) + (0.1f * g);
                    second[i] = (0.999f * second[i]) + (0.001f * g * g);
                    values[i] -= Rate * (first[i] / correction1) / (MathF.Sqrt(second[i] / correction2) + 1e-8f);
                }
            }
        }

        private sealed record Parameter(float[] Values, float[] Gradient, float[] First, float[] Second)
        {
            public Parameter(float[] values)
                : this(values, new float[values.Length], new float[values.Length], new float[values.Length])
            {
            }
        }
    }
}
