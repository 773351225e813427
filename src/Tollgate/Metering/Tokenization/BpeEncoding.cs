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

    public int Count(string text) => Encode(text).Count;

    public List<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>(text.Length / 3 + 1);
        var bytes = new byte[64];
        var chars = new char[64];
        foreach (var match in _pieces.EnumerateMatches(text))
        {
            var piece = text.AsSpan(match.Index, match.Length);
            var length = Encoding.UTF8.GetMaxByteCount(piece.Length);
            if (bytes.Length < length)
            {
                bytes = new byte[length];
                chars = new char[length];
            }

            var count = Encoding.UTF8.GetBytes(piece, bytes);
            for (var i = 0; i < count; i++)
            {
                // The ranks are keyed by bytes as Latin-1 text: one char a byte.
                chars[i] = (char)bytes[i];
            }

            var key = chars.AsSpan(0, count);
            if (_lookup.TryGetValue(key, out var whole))
            {
                tokens.Add(whole);
            }
            else
            {
                MergePairs(key, tokens);
            }
        }

        return tokens;
    }

    /// <summary>tiktoken's byte-pair merge: repeatedly join the adjacent pair whose join has the lowest rank (leftmost on ties).</summary>
    private void MergePairs(ReadOnlySpan<char> piece, List<int> tokens)
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

    private int RankAfterMerge(ReadOnlySpan<char> piece, List<(int Start, int Rank)> parts, int i) =>
        i + 3 < parts.Count ? RankOf(piece[parts[i].Start..parts[i + 3].Start]) : int.MaxValue;

    private int RankOf(ReadOnlySpan<char> bytes) => _lookup.TryGetValue(bytes, out var rank) ? rank : int.MaxValue;

    private static BpeEncoding Load(string name)
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
