using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Tollgate.Optimization.SemanticCaching;

namespace Tollgate.Bench;

/// <summary>
/// <c>--vector-index</c>: time of one nearest-entry lookup in the semantic cache's index at 1,000 to 100,000 entries of
/// 384 dimensions (MiniLM's size), for queries that are near copies of an entry (as a cache hit is) and for unrelated
/// queries (as a miss is), and how often the near copy's own entry is the answer. Run on one core:
/// <c>taskset -c 0 dotnet Tollgate.Bench.dll --vector-index</c>.
/// </summary>
internal static class VectorIndexBench
{
    public static void Run()
    {
        var c = CultureInfo.InvariantCulture;
        const int dimensions = 384;
        var random = new Random(42);
        Console.WriteLine("| entries | lookup p50 (near copy) | p99 | lookup p50 (unrelated) | p99 | near copies found |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var size in new[] { 1_000, 4_096, 10_000, 100_000 })
        {
            var index = new VectorIndex(dimensions);
            var vectors = new float[size][];
            for (var i = 0; i < size; i++)
            {
                vectors[i] = Unit(random, dimensions);
                index.Add(vectors[i]);
            }

            var near = new List<double>();
            var unrelated = new List<double>();
            var found = 0;
            const int queries = 2_000;
            for (var q = 0; q < queries; q++)
            {
                var target = random.Next(size);
                var copy = vectors[target].Select(x => x + (float)((random.NextDouble() - 0.5) * 0.03)).ToArray();
                TensorPrimitives.Divide(copy, TensorPrimitives.Norm(copy), copy);
                var started = Stopwatch.GetTimestamp();
                var hit = index.Nearest(copy);
                near.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                found += hit?.Id == target ? 1 : 0;

                var other = Unit(random, dimensions);
                started = Stopwatch.GetTimestamp();
                index.Nearest(other);
                unrelated.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            near.Sort();
            unrelated.Sort();
            Console.WriteLine(string.Create(c,
                $"| {size:N0} | {near[queries / 2]:0.000} ms | {near[queries * 99 / 100]:0.000} ms | {unrelated[queries / 2]:0.000} ms | {unrelated[queries * 99 / 100]:0.000} ms | {found / (double)queries:P1} |"));
        }
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
