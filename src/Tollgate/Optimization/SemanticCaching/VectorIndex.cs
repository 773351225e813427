using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// Nearest cached question by cosine (dot product of unit vectors). Up to <see cref="ExactScanFloats"/> floats in all
/// (4,096 entries of MiniLM's 384 dimensions, 1,536 of the lexical embedder's 1,024) every vector is compared (SIMD dot
/// products, <see cref="TensorPrimitives"/>). Past that, reading every vector costs too much a query (100,000 × 384
/// floats is 150 MB), so each vector also has a 256-bit
/// SimHash (signs of its projections on fixed random hyperplanes: the fraction of differing bits estimates the angle):
/// a popcount scan over those 32 bytes per entry picks the <see cref="Candidates"/> closest, and only they are compared
/// exactly. Entries are removed by id and their slots reused. Not thread-safe: the caller holds a lock (searches only
/// read, so they may share a read lock).
/// </summary>
public sealed class VectorIndex
{
    /// <summary>The most floats an exact scan reads: 4,096 entries of 384 dimensions.</summary>
    public const long ExactScanFloats = 4096L * 384;

    /// <summary>The most entries an exact scan covers at this index's dimensions.</summary>
    public int ExactScanLimit => (int)Math.Max(1, ExactScanFloats / _dimensions);
    public const int Candidates = 64;
    private const int CodeWords = 4; // 256 bits

    private readonly int _dimensions;
    private readonly float[] _hyperplanes;
    private float[] _vectors;
    private ulong[] _codes;
    private bool[] _live;
    private readonly Stack<int> _free = new();
    private int _slots;

    /// <summary>Hyperplanes by (dimensions, seed), shared: every shelf of the semantic cache has an index, and 256 planes of 384–3,072 floats each are 0.4–3 MB.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int Dimensions, int Seed), float[]> SharedHyperplanes = new();

    public VectorIndex(int dimensions, int seed = 20261206)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        _dimensions = dimensions;
        _hyperplanes = SharedHyperplanes.GetOrAdd((dimensions, seed), static key =>
        {
            // By dimension: element [d × 256 + plane] is the plane's component on dimension d (see Code).
            var random = new Random(key.Seed);
            var planes = new float[CodeWords * 64 * key.Dimensions];
            for (var i = 0; i < planes.Length; i++)
            {
                // Box–Muller: Gaussian directions make every angle equally likely to be split.
                planes[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            }

            return planes;
        });
        _vectors = new float[16 * dimensions];
        _codes = new ulong[16 * CodeWords];
        _live = new bool[16];
    }

    /// <summary>The length of the vectors it holds.</summary>
    public int Dimensions => _dimensions;

    /// <summary>Entries held.</summary>
    public int Count { get; private set; }

    public int Add(ReadOnlySpan<float> vector)
    {
        if (vector.Length != _dimensions)
        {
            throw new ArgumentException($"A vector of {vector.Length} dimensions, not {_dimensions}.", nameof(vector));
        }

        var id = _free.Count > 0 ? _free.Pop() : _slots++;
        if (id >= _live.Length)
        {
            var capacity = _live.Length * 2;
            Array.Resize(ref _vectors, capacity * _dimensions);
            Array.Resize(ref _codes, capacity * CodeWords);
            Array.Resize(ref _live, capacity);
        }

        vector.CopyTo(_vectors.AsSpan(id * _dimensions, _dimensions));
        Code(vector, _codes.AsSpan(id * CodeWords, CodeWords));
        _live[id] = true;
        Count++;
        return id;
    }

    public void Remove(int id)
    {
        if (id >= 0 && id < _slots && _live[id])
        {
            _live[id] = false;
            _free.Push(id);
            Count--;
        }
    }

    /// <summary>The vector held under <paramref name="id"/> (valid until the index next changes).</summary>
    public ReadOnlySpan<float> VectorOf(int id) =>
        id >= 0 && id < _slots && _live[id] ? _vectors.AsSpan(id * _dimensions, _dimensions) : throw new ArgumentOutOfRangeException(nameof(id), "No entry has that id.");

    /// <summary>The most similar live entry and its cosine; null when the index is empty.</summary>
    public (int Id, float Similarity)? Nearest(ReadOnlySpan<float> query)
    {
        if (Count == 0)
        {
            return null;
        }

        // A sparse query (the lexical embedder's use a few dozen of their 1,024 dimensions) is compared on the
        // dimensions it uses alone: the same dot product, a twentieth of the reads.
        var used = ArrayPool<int>.Shared.Rent(_dimensions);
        try
        {
            var usedCount = 0;
            for (var d = 0; d < _dimensions && usedCount <= _dimensions / SparseShare; d++)
            {
                if (query[d] != 0)
                {
                    used[usedCount++] = d;
                }
            }

            var comparison = new Comparison(query, usedCount <= _dimensions / SparseShare ? used.AsSpan(0, usedCount) : default, _vectors, _dimensions);
            return Count <= ExactScanLimit ? BestOfLive(comparison) : BestOfCandidates(query, comparison);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(used);
        }
    }

    /// <summary>A query is sparse when it uses at most one dimension in this many.</summary>
    private const int SparseShare = 8;

    private (int Id, float Similarity)? BestOfLive(in Comparison comparison)
    {
        (int Id, float Score) best = (-1, float.NegativeInfinity);
        for (var id = 0; id < _slots; id++)
        {
            if (_live[id] && comparison.Score(id) is var score && score > best.Score)
            {
                best = (id, score);
            }
        }

        return best.Id < 0 ? null : best;
    }

    /// <summary>
    /// The <see cref="Candidates"/> entries whose SimHash codes differ least from the query's, compared exactly. The
    /// heap keeps the nearest codes found so far with the farthest on top (priorities are negated distances, so the
    /// default integer comparison orders them: no comparer delegate per step).
    /// </summary>
    private (int Id, float Similarity)? BestOfCandidates(ReadOnlySpan<float> query, in Comparison comparison)
    {
        Span<ulong> code = stackalloc ulong[CodeWords];
        Code(query, code);
        var heap = new PriorityQueue<int, int>(Candidates + 1);
        for (var i = 0; i < _slots; i++)
        {
            if (!_live[i])
            {
                continue;
            }

            var at = i * CodeWords;
            var distance = BitOperations.PopCount(code[0] ^ _codes[at]) + BitOperations.PopCount(code[1] ^ _codes[at + 1])
                + BitOperations.PopCount(code[2] ^ _codes[at + 2]) + BitOperations.PopCount(code[3] ^ _codes[at + 3]);
            if (heap.Count < Candidates)
            {
                heap.Enqueue(i, -distance);
            }
            else if (heap.TryPeek(out _, out var farthest) && distance < -farthest)
            {
                heap.DequeueEnqueue(i, -distance);
            }
        }

        (int Id, float Score) best = (-1, float.NegativeInfinity);
        while (heap.TryDequeue(out var id, out _))
        {
            if (comparison.Score(id) is var score && score > best.Score)
            {
                best = (id, score);
            }
        }

        return best.Id < 0 ? null : best;
    }

    /// <summary>A query's cosine with the entries, over every dimension or, for a sparse query, over those it uses.</summary>
    private readonly ref struct Comparison(ReadOnlySpan<float> query, ReadOnlySpan<int> used, float[] vectors, int dimensions)
    {
        private readonly ReadOnlySpan<float> _query = query;
        private readonly ReadOnlySpan<int> _used = used;

        public float Score(int id)
        {
            var vector = vectors.AsSpan(id * dimensions, dimensions);
            if (_used.IsEmpty)
            {
                return TensorPrimitives.Dot(_query, vector);
            }

            var sum = 0f;
            foreach (var d in _used)
            {
                sum += _query[d] * vector[d];
            }

            return sum;
        }
    }

    /// <summary>
    /// The vector's SimHash: the sign of its projection on each hyperplane. The planes are stored by dimension (the 256
    /// planes' components of one dimension side by side), so the projections are summed one dimension at a time and a
    /// dimension the vector does not use is skipped: the lexical embedder's vectors use a few dozen of their 1,024, and
    /// their code is computed from those alone instead of reading all 1 MB of planes.
    /// </summary>
    private void Code(ReadOnlySpan<float> vector, Span<ulong> code)
    {
        const int Bits = CodeWords * 64;
        Span<float> projections = stackalloc float[Bits];
        projections.Clear();
        for (var d = 0; d < _dimensions; d++)
        {
            if (vector[d] is var component && component != 0)
            {
                TensorPrimitives.MultiplyAdd(_hyperplanes.AsSpan(d * Bits, Bits), component, projections, projections);
            }
        }

        code.Clear();
        for (var bit = 0; bit < Bits; bit++)
        {
            if (projections[bit] >= 0)
            {
                code[bit / 64] |= 1UL << (bit % 64);
            }
        }
    }
}
