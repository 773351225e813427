using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tollgate.Metering.Tokenization;

/// <summary>
/// Byte-pair encoding over tiktoken's rank tables (o200k_base, cl100k_base, shipped by the npm package js-tiktoken),
/// giving the same token ids as tiktoken's <c>encode_ordinary</c>: text is split by the encoding's regular
/// expression, each piece's UTF-8 bytes are merged pair by pair, lowest rank first.
/// </summary>
public sealed class BpeEncoding
{
    private const string Prefix = "module.exports = ";

    private static readonly Lazy<BpeEncoding> O200k = new(() => Load("o200k_base"));
    private static readonly Lazy<BpeEncoding> Cl100k = new(() => Load("cl100k_base"));

    private readonly Dictionary<string, int> _ranks;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly Regex _pieces;

    private BpeEncoding(string name, Dictionary<string, int> ranks, Regex pieces)
    {
        Name = name;
        _ranks = ranks;
        _lookup = ranks.GetAlternateLookup<ReadOnlySpan<char>>();
        _pieces = pieces;
    }

    /// <summary>GPT-4o, GPT-4.1, GPT-5, o-series and gpt-oss.</summary>
    public static BpeEncoding O200kBase => O200k.Value;

    /// <summary>GPT-4, GPT-3.5 and the text-embedding-3 models.</summary>
    public static BpeEncoding Cl100kBase => Cl100k.Value;

    public string Name { get; }

    /// <summary>
    /// How many tokens <paramref name="text"/> is: <see cref="Encode"/>'s count, without keeping the ids. Counts of texts
    /// of at least <see cref="RememberedMinChars"/> characters are remembered — a system prompt sent with every request is
    /// encoded once, then found by its text (hashing and comparing it costs a small part of encoding it) — up to
    /// <see cref="RememberedMaxChars"/> characters in all, after which the remembered counts are dropped and gathered again.
    /// </summary>
    public int Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < RememberedMinChars || text.Length > RememberedMaxChars / 4)
        {
            return Run(text, tokens: null);
        }

        if (_counts.TryGetValue(text, out var known))
        {
            return known;
        }

        var count = Run(text, tokens: null);
        if (Interlocked.Add(ref _rememberedChars, text.Length) > RememberedMaxChars)
        {
            _counts.Clear();
            Interlocked.Exchange(ref _rememberedChars, text.Length);
        }

        _counts.TryAdd(text, count);
        return count;
    }

    /// <summary>Texts shorter than this are encoded every time (a role, a short question: encoding is as cheap as a look-up).</summary>
    internal const int RememberedMinChars = 32;

    /// <summary>The characters of remembered texts kept at most (about twice as many bytes); a text over a quarter of it is never kept.</summary>
    internal const long RememberedMaxChars = 4L * 1024 * 1024;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private long _rememberedChars;

    /// <summary>The characters of the texts whose counts are remembered now (for tests).</summary>
    internal long RememberedChars => Interlocked.Read(ref _rememberedChars);

    public List<int> Encode(string text)
    {
        var tokens = new List<int>((text?.Length ?? 0) / 3 + 1);
        Run(text!, tokens);
        return tokens;
    }

    /// <summary>A piece's bytes up to this long are handled on the stack; longer ones in rented arrays.</summary>
    private const int StackPiece = 64;

    /// <summary>Splits <paramref name="text"/> into pieces and merges each; adds the ids to <paramref name="tokens"/> when given, and returns how many there are.</summary>
    private int Run(string text, List<int>? tokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var count = 0;
        Span<byte> byteBuffer = stackalloc byte[StackPiece];
        Span<char> charBuffer = stackalloc char[StackPiece];
        List<int>? scratch = null;
        foreach (var match in _pieces.EnumerateMatches(text))
        {
            var piece = text.AsSpan(match.Index, match.Length);
            var length = Encoding.UTF8.GetMaxByteCount(piece.Length);
            var rentedBytes = length <= StackPiece ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(length);
            var rentedChars = length <= StackPiece ? null : System.Buffers.ArrayPool<char>.Shared.Rent(length);
            try
            {
                var bytes = rentedBytes is null ? byteBuffer : rentedBytes;
                var chars = rentedChars is null ? charBuffer : rentedChars;
                var written = Encoding.UTF8.GetBytes(piece, bytes);
                for (var i = 0; i < written; i++)
                {
                    // The ranks are keyed by bytes as Latin-1 text: one char a byte.
                    chars[i] = (char)bytes[i];
                }

                var key = chars[..written];
                if (_lookup.TryGetValue(key, out var whole))
                {
                    tokens?.Add(whole);
                    count++;
                }
                else
                {
                    var into = tokens ?? (scratch ??= []);
                    var before = into.Count;
                    MergePairs(key, into);
                    count += into.Count - before;
                    scratch?.Clear();
                }
            }
            finally
            {
                if (rentedBytes is not null)
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(rentedBytes);
                    System.Buffers.ArrayPool<char>.Shared.Return(rentedChars!);
                }
            }
        }

        return count;
    }

    /// <summary>Pieces longer than this are merged with a heap: the scan below is quadratic in a piece's length.</summary>
    internal const int LongPiece = 128;

    /// <summary>
    /// tiktoken's byte-pair merge: repeatedly join the adjacent pair whose join has the lowest rank (leftmost on ties).
    /// A short piece is scanned for its lowest pair after every merge; a long one keeps its pairs in a heap.
    /// </summary>
    private void MergePairs(ReadOnlySpan<char> piece, List<int> tokens)
    {
        if (piece.Length > LongPiece)
        {
            MergeLongPiece(piece, tokens);
        }
        else
        {
            MergeShortPiece(piece, tokens);
        }
    }

    /// <summary>The scan: for a piece of n bytes, up to n merges of an n-long search — cheapest for the short pieces of real text.</summary>
    internal void MergeShortPiece(ReadOnlySpan<char> piece, List<int> tokens)
    {
        var parts = new List<(int Start, int Rank)>(piece.Length + 1);
        var min = (Rank: int.MaxValue, Index: -1);
        for (var i = 0; i < piece.Length - 1; i++)
        {
            var rank = RankOf(piece[i..(i + 2)]);
            if (rank < min.Rank)
            {
                min = (rank, i);
            }

            parts.Add((i, rank));
        }

        parts.Add((piece.Length - 1, int.MaxValue));
        parts.Add((piece.Length, int.MaxValue));

        while (min.Rank != int.MaxValue)
        {
            var i = min.Index;
            if (i > 0)
            {
                parts[i - 1] = (parts[i - 1].Start, RankAfterMerge(piece, parts, i - 1));
            }

            parts[i] = (parts[i].Start, RankAfterMerge(piece, parts, i));
            parts.RemoveAt(i + 1);
            min = (int.MaxValue, -1);
            for (var j = 0; j < parts.Count - 1; j++)
            {
                if (parts[j].Rank < min.Rank)
                {
                    min = (parts[j].Rank, j);
                }
            }
        }

        for (var i = 0; i < parts.Count - 1; i++)
        {
            tokens.Add(RankOf(piece[parts[i].Start..parts[i + 1].Start]));
        }
    }


    /// <summary>
    /// The same merges in O(n log n): the parts form a linked list over the piece's bytes, and every adjacent pair's
    /// rank sits in a heap ordered by (rank, start), so the lowest and leftmost pair comes first as in the scan. A
    /// merge changes only the pairs on either side of it; their old heap entries are skipped when they come up.
    /// </summary>
    internal void MergeLongPiece(ReadOnlySpan<char> piece, List<int> tokens)
    {
        var n = piece.Length;
        var next = System.Buffers.ArrayPool<int>.Shared.Rent(n + 1);
        var previous = System.Buffers.ArrayPool<int>.Shared.Rent(n + 1);
        var pairRank = System.Buffers.ArrayPool<int>.Shared.Rent(n + 1);
        try
        {
            var heap = new PriorityQueue<int, long>(n);
            for (var i = 0; i < n; i++)
            {
                next[i] = i + 1;
                previous[i] = i - 1;
                pairRank[i] = i + 2 <= n ? RankOf(piece[i..(i + 2)]) : int.MaxValue;
                if (pairRank[i] != int.MaxValue)
                {
                    heap.Enqueue(i, Priority(pairRank[i], i));
                }
            }

            next[n] = n;
            while (heap.TryDequeue(out var start, out var priority))
            {
                // A part merged away, or a pair whose rank changed since this entry was queued, is stale.
                if (next[start] < 0 || pairRank[start] != (int)(priority >> 32))
                {
                    continue;
                }

                var removed = next[start];
                next[start] = next[removed];
                previous[next[removed]] = start;
                next[removed] = -1;
                Rerank(piece, next, pairRank, heap, start);
                if (previous[start] >= 0)
                {
                    Rerank(piece, next, pairRank, heap, previous[start]);
                }
            }

            for (var i = 0; i < n; i = next[i])
            {
                tokens.Add(RankOf(piece[i..next[i]]));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(next);
            System.Buffers.ArrayPool<int>.Shared.Return(previous);
            System.Buffers.ArrayPool<int>.Shared.Return(pairRank);
        }

    }

    /// <summary>Requeues the pair of the part at <paramref name="start"/> and the part after it (none at the end).</summary>
    private void Rerank(ReadOnlySpan<char> piece, int[] next, int[] pairRank, PriorityQueue<int, long> heap, int start)
    {
        var n = piece.Length;
        var end = next[start] < n ? next[next[start]] : -1;
        pairRank[start] = end > 0 ? RankOf(piece[start..end]) : int.MaxValue;
        if (pairRank[start] != int.MaxValue)
        {
            heap.Enqueue(start, Priority(pairRank[start], start));
        }
    }

    private static long Priority(int rank, int start) => ((long)rank << 32) | (uint)start;

    private int RankAfterMerge(ReadOnlySpan<char> piece, List<(int Start, int Rank)> parts, int i) =>
        i + 3 < parts.Count ? RankOf(piece[parts[i].Start..parts[i + 3].Start]) : int.MaxValue;

    private int RankOf(ReadOnlySpan<char> bytes) => _lookup.TryGetValue(bytes, out var rank) ? rank : int.MaxValue;

    /// <summary>A new instance of an encoding (the shared ones are <see cref="O200kBase"/> and <see cref="Cl100kBase"/>).</summary>
    internal static BpeEncoding Load(string name)
    {
        var resource = $"Tollgate.Metering.Tokenization.{name}.cjs";
        using var stream = typeof(BpeEncoding).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource {resource} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var source = reader.ReadToEnd().AsSpan().Trim();
        if (!source.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{resource} is not a js-tiktoken rank file.");
        }

        source = source[Prefix.Length..].TrimEnd(';');
        using var document = JsonDocument.Parse(source.ToString());
        var root = document.RootElement;
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in root.GetProperty("bpe_ranks").GetString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "<prefix> <first rank> <base64 token> <base64 token> …": ranks run on from the first.
            var fields = line.Split(' ');
            var rank = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            for (var i = 2; i < fields.Length; i++)
            {
                ranks[Encoding.Latin1.GetString(Convert.FromBase64String(fields[i]))] = rank++;
            }
        }

        return new BpeEncoding(name, ranks, new Regex(AcceptSurrogatePairs(root.GetProperty("pat_str").GetString()!), RegexOptions.Compiled | RegexOptions.CultureInvariant));
    }

    /// <summary>
    /// .NET matches UTF-16 units, tiktoken code points: an optional single "non-letter" before a word must also take a
    /// whole surrogate pair (an emoji), or "😀hello" splits differently from tiktoken.
    /// </summary>
    internal static string AcceptSurrogatePairs(string pattern) =>
        pattern.Replace(@"[^\r\n\p{L}\p{N}]?", @"(?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[^\r\n\p{L}\p{N}])?", StringComparison.Ordinal);
}
