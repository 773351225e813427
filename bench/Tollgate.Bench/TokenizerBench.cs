using System.Diagnostics;
using System.Globalization;
using System.Text;
using Tollgate.Metering.Tokenization;

namespace Tollgate.Bench;

/// <summary>
/// <c>--tokenizer</c>: how long counting one huge single-piece prompt takes, on the calling thread (run it under
/// <c>taskset -c 0</c> for one core). Each text is one regex piece of about 1 MB, the case a client can send to buy
/// CPU; the scan merge (what every piece used before) is timed beside the heap merge on sizes it can finish.
/// Prints a Markdown table for docs/PERFORMANCE.md.
/// </summary>
internal static class TokenizerBench
{
    public static void Run()
    {
        var encoding = BpeEncoding.O200kBase;
        encoding.Count("warm up the rank table and the regex");
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine("| text (one piece) | characters | UTF-8 bytes | tokens | count, median of 5 |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, text) in Texts())
        {
            var tokens = encoding.Count(text);
            var times = Enumerable.Range(0, 5).Select(_ => Time(() => encoding.Count(text))).Order().ToList();
            Console.WriteLine(string.Create(c, $"| {name} | {text.Length:N0} | {Encoding.UTF8.GetByteCount(text):N0} | {tokens:N0} | {times[2].TotalMilliseconds:N0} ms |"));
        }

        Console.WriteLine();
        Console.WriteLine("| random lowercase word | scan merge (before) | heap merge (now) |");
        Console.WriteLine("|---:|---:|---:|");
        foreach (var length in new[] { 10_000, 40_000, 80_000, 160_000 })
        {
            var piece = Word(length).AsSpan().ToString();
            var scan = Time(() => encoding.MergeShortPiece(piece, new List<int>(length)));
            var heap = Time(() => encoding.MergeLongPiece(piece, new List<int>(length)));
            Console.WriteLine(string.Create(c, $"| {length:N0} | {scan.TotalMilliseconds:N0} ms | {heap.TotalMilliseconds:N1} ms |"));
        }
    }

    private static IEnumerable<(string Name, string Text)> Texts()
    {
        const int Size = 1_000_000;
        yield return ("random lowercase letters", Word(Size));
        yield return ("one letter repeated", new string('a', Size));
        yield return ("uppercase Vietnamese letter (2 bytes)", new string('Ư', Size / 2));
        yield return ("letters with combining marks", string.Concat(Enumerable.Repeat("a\u0301", Size / 2)));
        yield return ("CJK (3 bytes)", new string('中', Size / 3));
        yield return ("emoji (4 bytes, surrogate pairs)", string.Concat(Enumerable.Repeat("😀", Size / 4)));
        yield return ("punctuation", new string('!', Size));
        yield return ("spaces", new string(' ', Size));
        yield return ("digits", new string('7', Size));
    }

    private static string Word(int length)
    {
        var random = new Random(length);
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + r.Next(26));
            }
        });
    }

    private static TimeSpan Time(Action action)
    {
        var stopwatch = Stopwatch.StartNew();
        action();
        return stopwatch.Elapsed;
    }
}
