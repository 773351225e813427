using System.Buffers;
using System.Collections.Frozen;
using System.Runtime.InteropServices;


namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// Unicode canonical composition (NFC) and decomposition (NFD) for the Basic Multilingual Plane, from tables generated
/// out of the Unicode database (<c>tools/unicode/make_tables.py</c>). The gateway runs in .NET's invariant globalization
/// mode — ICU would cost ~5 MB of every process's memory —, and in that mode <see cref="string.Normalize()"/> does
/// nothing: "hàng" typed as a + combining grave would not be the "hàng" a cache kept. Characters beyond the plane are
/// left as they are.
/// </summary>
internal static partial class UnicodeForms
{
    private const int HangulBase = 0xAC00, LeadBase = 0x1100, VowelBase = 0x1161, TrailBase = 0x11A7;
    private const int VowelCount = 21, TrailCount = 28, SyllableCount = 11172;

    private static readonly FrozenDictionary<char, (char First, char Second)> Decompositions = Triples(DecompositionData)
        .ToFrozenDictionary(t => t.A, t => (t.B, t.C));

    private static readonly FrozenDictionary<char, byte> Classes = Enumerable.Range(0, ClassData.Length / 2)
        .ToFrozenDictionary(i => ClassData[2 * i], i => (byte)ClassData[(2 * i) + 1]);

    private static readonly FrozenDictionary<uint, char> Compositions = Triples(CompositionData)
        .ToFrozenDictionary(t => Pair(t.A, t.B), t => t.C);

    private static readonly SearchValues<char> Maybe = SearchValues.Create(MaybeData);

    /// <summary>The text in Normalization Form C (characters composed).</summary>
    public static string Compose(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.AsSpan().IndexOfAny(Maybe) < 0)
        {
            return text; // no character that composition could change: already NFC (all of ASCII, precomposed Vietnamese)
        }

        var buffer = DecomposeToBuffer(text);
        if (buffer.Count == 0)
        {
            return string.Empty;
        }

        var starterAt = 0;
        var starter = buffer[0];
        var lastClass = ClassOf(starter) == 0 ? 0 : 256;
        var written = 1;
        for (var i = 1; i < buffer.Count; i++)
        {
            var c = buffer[i];
            var cClass = ClassOf(c);
            if ((lastClass < cClass || lastClass == 0) && ComposeTwo(starter, c) is { } composite)
            {
                buffer[starterAt] = starter = composite;
                continue;
            }

            if (cClass == 0)
            {
                (starterAt, starter) = (written, c);
            }

            lastClass = cClass;
            buffer[written++] = c;
        }

        return new string(CollectionsMarshal.AsSpan(buffer)[..written]);
    }

    /// <summary>The text in Normalization Form D (characters decomposed, combining marks in canonical order).</summary>
    public static string Decompose(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var buffer = DecomposeToBuffer(text);
        return new string(CollectionsMarshal.AsSpan(buffer));
    }

    private static List<char> DecomposeToBuffer(string text)
    {
        var buffer = new List<char>(text.Length + 8);
        foreach (var c in text)
        {
            Append(buffer, c);
        }

        // Canonical order: within each run of combining marks, a stable sort by combining class (by class and position,
        // so that a hostile run of a million alternating marks sorts in n log n, not n²).
        var marks = CollectionsMarshal.AsSpan(buffer);
        for (var start = 0; start < marks.Length;)
        {
            if (ClassOf(marks[start]) == 0)
            {
                start++;
                continue;
            }

            var end = start;
            while (end < marks.Length && ClassOf(marks[end]) != 0)
            {
                end++;
            }

            if (end - start > 1)
            {
                var run = marks[start..end];
                var keys = new long[run.Length];
                for (var k = 0; k < run.Length; k++)
                {
                    keys[k] = ((long)ClassOf(run[k]) << 32) | (uint)k;
                }

                keys.AsSpan().Sort(run);
            }

            start = end;
        }

        return buffer;
    }

    private static void Append(List<char> buffer, char c)
    {
        if (c is >= (char)HangulBase and < (char)(HangulBase + SyllableCount))
        {
            var index = c - HangulBase;
            buffer.Add((char)(LeadBase + (index / (VowelCount * TrailCount))));
            buffer.Add((char)(VowelBase + (index % (VowelCount * TrailCount) / TrailCount)));
            if (index % TrailCount != 0)
            {
                buffer.Add((char)(TrailBase + (index % TrailCount)));
            }

            return;
        }

        if (Decompositions.TryGetValue(c, out var parts))
        {
            Append(buffer, parts.First);
            if (parts.Second != '\0')
            {
                Append(buffer, parts.Second);
            }

            return;
        }

        buffer.Add(c);
    }

    private static char? ComposeTwo(char first, char second)
    {
        if (first is >= (char)LeadBase and < (char)(LeadBase + 19) && second is >= (char)VowelBase and < (char)(VowelBase + VowelCount))
        {
            return (char)(HangulBase + ((((first - LeadBase) * VowelCount) + (second - VowelBase)) * TrailCount));
        }

        if (first is >= (char)HangulBase and < (char)(HangulBase + SyllableCount) && (first - HangulBase) % TrailCount == 0
            && second is > (char)TrailBase and < (char)(TrailBase + TrailCount))
        {
            return (char)(first + (second - TrailBase));
        }

        return Compositions.TryGetValue(Pair(first, second), out var composite) ? composite : null;
    }

    private static int ClassOf(char c) => Classes.TryGetValue(c, out var value) ? value : 0;

    private static uint Pair(char first, char second) => ((uint)first << 16) | second;

    private static IEnumerable<(char A, char B, char C)> Triples(string data) =>
        Enumerable.Range(0, data.Length / 3).Select(i => (data[3 * i], data[(3 * i) + 1], data[(3 * i) + 2]));
}
