namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// The vectors of texts embedded lately, in front of an embedder that costs: an embeddings alias (a provider call, paid
/// and recorded) or an in-process model (~10 ms of CPU). The same question asked under another context (another
/// key's scope, another system prompt) or the same kept answer compared again by a verification is embedded once.
/// Keyed by the exact text; least recently used dropped past its byte budget; a text over
/// <see cref="MaxTextLength"/> characters, or a failed embedding, is not remembered. The vectors handed out are shared:
/// callers only read them.
/// </summary>
/// <param name="inner">The embedder that costs.</param>
/// <param name="maxBytes">What the remembered texts and vectors may take, as counted by <see cref="Bytes"/>.</param>
public sealed class RememberedVectors(ITextEmbedder inner, long maxBytes = RememberedVectors.DefaultMaxBytes) : ITextEmbedder, IDisposable
{
    /// <summary>32 MB: ~20,000 MiniLM vectors of short questions.</summary>
    public const long DefaultMaxBytes = 32L * 1024 * 1024;

    /// <summary>Longer texts (long answers compared by a verification) are embedded each time.</summary>
    public const int MaxTextLength = 8_000;

    private readonly Lock _gate = new();
    private readonly ByteBoundedLru<string, float[]> _byText = new(maxBytes, Bytes, StringComparer.Ordinal);

    public string Name => inner.Name;

    public int Dimensions => inner.Dimensions;

    /// <summary>How many texts' vectors are remembered.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byText.Count;
            }
        }
    }

    public async ValueTask<float[]?> EmbedAsync(string text, Ledger.Attribution? payer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength)
        {
            return await inner.EmbedAsync(text, payer, cancellationToken);
        }

        lock (_gate)
        {
            if (_byText.TryGet(text, out var remembered))
            {
                return remembered;
            }
        }

        var vector = await inner.EmbedAsync(text, payer, cancellationToken);
        if (vector is not null)
        {
            Remember(text, vector);
        }

        return vector;
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    /// <summary>What one remembered text counts for: its characters, its vector and a fixed 96 bytes for the rest.</summary>
    public static long Bytes(string text, float[] vector) => (text.Length * 2L) + (vector.Length * 4L) + 96;

    private void Remember(string text, float[] vector)
    {
        lock (_gate)
        {
            if (!_byText.ContainsKey(text))
            {
                _byText.Set(text, vector); // when two lookups embedded it at once, the first kept stays
            }
        }
    }
}
