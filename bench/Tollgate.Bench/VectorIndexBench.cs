using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Tollgate.Optimization.SemanticCaching;

namespace Tollgate.Bench;

/// <summary>
/// <c>--vector-index</c>: time of one nearest-entry lookup in the semantic cache's index at 1,000 to 100,000 entries,
/// for queries that are near copies of an entry (as a cache hit is) and for unrelated queries (as a miss is), how often
/// the near copy's own entry is the answer, and the mean time to add an entry (remembering a question). Two kinds of
/// vectors: dense unit vectors of 384 dimensions (MiniLM's size), and the lexical embedder's sparse 1,024-dimension
/// vectors of generated questions, reworded for the near copies. Run on one core:
/// <c>taskset -c 0 dotnet Tollgate.Bench.dll --vector-index</c>.
/// </summary>
internal static class VectorIndexBench
{
    private static readonly string[] Cities = ["Da Nang", "Hue", "Hanoi", "Can Tho", "Hai Phong", "Nha Trang", "Vinh", "Quy Nhon", "Da Lat", "Buon Ma Thuot"];
    private static readonly string[] Topics = ["shipping", "a refund", "an exchange", "delivery", "a repair", "pickup", "an invoice", "a warranty claim"];

    public static void Run()
    {
        var random = new Random(42);
        Console.WriteLine("Dense vectors, 384 dimensions (MiniLM's size):");
        Measure(
            size => Enumerable.Range(0, size).Select(_ => Unit(random, 384)).ToArray(),
            (vectors, target) => NearCopy(random, vectors[target]),
            () => Unit(random, 384));

        var lexical = new LexicalEmbedder();
        Console.WriteLine();
        Console.WriteLine("Lexical embedder vectors, 1,024 dimensions, generated questions:");
        Measure(
            size => Enumerable.Range(0, size).Select(i => lexical.Embed(QueryText.Of(Question(i)).Normalised)).ToArray(),
            (_, target) => lexical.Embed(QueryText.Of(Reworded(target)).Normalised),
            () => lexical.Embed(QueryText.Of($"Do you sell {random.Next(1_000_000)} gift cards on weekends?").Normalised));
    }

    private static void Measure(Func<int, float[][]> make, Func<float[][], int, float[]> nearCopy, Func<float[]> unrelatedQuery)
    {
        var c = CultureInfo.InvariantCulture;
        var random = new Random(7);
        Console.WriteLine("| entries | lookup p50 (near copy) | p99 | lookup p50 (unrelated) | p99 | near copies found | add, mean |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var size in new[] { 1_000, 4_096, 10_000, 100_000 })
        {
            var vectors = make(size);
            var dimensions = vectors[0].Length;
            var index = new VectorIndex(dimensions);
            var adding = Stopwatch.GetTimestamp();
            foreach (var vector in vectors)
            {
                index.Add(vector);
            }

            var addMs = Stopwatch.GetElapsedTime(adding).TotalMilliseconds / size;
            var near = new List<double>();
            var unrelated = new List<double>();
            var found = 0;
            const int queries = 2_000;
            for (var q = 0; q < queries; q++)
            {
                var target = random.Next(size);
                var copy = nearCopy(vectors, target);
                var started = Stopwatch.GetTimestamp();
                var hit = index.Nearest(copy);
                near.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                found += hit?.Id == target ? 1 : 0;

                var other = unrelatedQuery();
                started = Stopwatch.GetTimestamp();
                index.Nearest(other);
                unrelated.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            near.Sort();
            unrelated.Sort();
            Console.WriteLine(string.Create(c,
                $"| {size:N0} | {near[queries / 2]:0.000} ms | {near[queries * 99 / 100]:0.000} ms | {unrelated[queries / 2]:0.000} ms | {unrelated[queries * 99 / 100]:0.000} ms | {found / (double)queries:P1} | {addMs * 1000:0.0} µs |"));
        }
    }

    private static string Question(int i) => $"How long does {Topics[i % Topics.Length]} to {Cities[i / Topics.Length % Cities.Length]} take for order {i}?";

    private static string Reworded(int i) => $"order {i}: {Topics[i % Topics.Length]} to {Cities[i / Topics.Length % Cities.Length]}, how long does it take";

    private static float[] NearCopy(Random random, float[] vector)
    {
        var copy = vector.Select(x => x + (float)((random.NextDouble() - 0.5) * 0.03)).ToArray();
        TensorPrimitives.Divide(copy, TensorPrimitives.Norm(copy), copy);
        return copy;
    }

    private static float[] Unit(Random random, int dimensions)
    {
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() - 0.5);
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}
