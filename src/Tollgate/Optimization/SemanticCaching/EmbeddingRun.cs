using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// Embeds the texts of an offline evaluation (<c>tollgate cache eval</c>, <c>tollgate route eval</c>): an in-process
/// model in batches of 32 texts of like length (faster per text than one by one), and, given a folder, the vectors kept there between runs
/// (MiniLM takes minutes for tens of thousands of texts), under a name from the embedder and a hash of the set of texts.
/// </summary>
public static class EmbeddingRun
{
    private const int Batch = 32;

    /// <summary>The texts' vectors in order, and the time embedding took (null when they were read from the folder).</summary>
    public static async Task<(float[][] Vectors, TimeSpan? Elapsed)> EmbedAsync(
        IReadOnlyList<string> texts, ITextEmbedder embedder, string? cacheDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(embedder);
        string? file = null;
        string[]? kept = null;
        if (cacheDirectory is not null)
        {
            // Named by the set of texts, in ordinal order, so another order (another shuffle seed) finds the same file.
            kept = [.. texts.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u0001', kept))))[..16];
            file = Path.Combine(cacheDirectory, $"{embedder.Name.Replace(':', '_')}-{hash}.f32");
            if (File.Exists(file))
            {
                var bytes = await File.ReadAllBytesAsync(file, cancellationToken);
                var dimensions = kept.Length == 0 ? 0 : bytes.Length / 4 / kept.Length;
                if (dimensions > 0 && bytes.Length == kept.Length * dimensions * 4)
                {
                    var at = new Dictionary<string, int>(kept.Length, StringComparer.Ordinal);
                    for (var i = 0; i < kept.Length; i++)
                    {
                        at[kept[i]] = i;
                    }

                    return ([.. texts.Select(t => MemoryMarshal.Cast<byte, float>(bytes.AsSpan(at[t] * dimensions * 4, dimensions * 4)).ToArray())], null);
                }
            }
        }

        var clock = Stopwatch.StartNew();
        var vectors = new float[texts.Count][];
        if (embedder is IBatchEmbedder model)
        {
            // A batch is padded to its longest text: texts of like length go together.
            var byLength = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
            for (var start = 0; start < byLength.Length; start += Batch)
            {
                var members = byLength.AsSpan(start, Math.Min(Batch, byLength.Length - start)).ToArray();
                var batch = await model.EmbedManyAsync([.. members.Select(i => texts[i])], cancellationToken);
                for (var j = 0; j < members.Length; j++)
                {
                    vectors[members[j]] = batch[j];
                }
            }
        }
        else
        {
            for (var i = 0; i < texts.Count; i++)
            {
                vectors[i] = await embedder.EmbedAsync(texts[i], null, cancellationToken)
                    ?? throw new InvalidOperationException("The embedder gave no vector.");
            }
        }

        clock.Stop();
        if (file is not null)
        {
            var first = new Dictionary<string, float[]>(StringComparer.Ordinal);
            for (var i = 0; i < texts.Count; i++)
            {
                first.TryAdd(texts[i], vectors[i]);
            }

            Directory.CreateDirectory(cacheDirectory!);
            await File.WriteAllBytesAsync(file, [.. kept!.SelectMany(t => MemoryMarshal.AsBytes(first[t].AsSpan()).ToArray())], cancellationToken);
        }

        return (vectors, clock.Elapsed);
    }
}
