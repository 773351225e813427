using System.Text.Json;
using CsCheck;
using Tollgate.Metering.Tokenization;
using Xunit;

namespace Tollgate.Tests.Metering;

public sealed class BpeEncodingTests
{
    /// <summary>Texts and the ids js-tiktoken gives them (see Fixtures/make-tiktoken-golden.cjs).</summary>
    public static TheoryData<int> GoldenCases()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Golden().Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    private static List<JsonElement> Golden() =>
        [.. JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Metering", "Fixtures", "tiktoken-golden.json"))).RootElement.EnumerateArray()];

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Token_ids_equal_tiktokens_for_o200k_base(int index)
    {
        var golden = Golden()[index];

        Assert.Equal(Ids(golden, "o200k_base"), BpeEncoding.O200kBase.Encode(golden.GetProperty("text").GetString()!));
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Token_ids_equal_tiktokens_for_cl100k_base(int index)
    {
        var golden = Golden()[index];

        Assert.Equal(Ids(golden, "cl100k_base"), BpeEncoding.Cl100kBase.Encode(golden.GetProperty("text").GetString()!));
    }

    [Fact]
    public void The_split_pattern_takes_a_surrogate_pair_as_one_character_like_tiktoken_does_a_code_point()
    {
        Assert.Contains(@"[\uD800-\uDBFF][\uDC00-\uDFFF]", BpeEncoding.AcceptSurrogatePairs(@"[^\r\n\p{L}\p{N}]?\p{L}+"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_heap_merge_of_long_pieces_gives_the_same_ids_as_tiktokens_scan()
    {
        // Pieces as the merge sees them: UTF-8 bytes as Latin-1 chars, from alphabets that merge much, little or not at all.
        var alphabets = new[] { "ab", "etaoinshrdlu", "abcdefghijklmnopqrstuvwxyz", "đườngphố", "😀👍🏽", "!@#$ \n\t", "0123456789" };
        var pieces = Gen.Select(Gen.Int[0, alphabets.Length - 1], Gen.Int[2, 600], Gen.Int[0, int.MaxValue]).Select((alphabet, length, seed) =>
        {
            var random = new Random(seed);
            var text = string.Concat(Enumerable.Range(0, length).Select(_ => alphabets[alphabet][random.Next(alphabets[alphabet].Length)]));
            return new string([.. System.Text.Encoding.UTF8.GetBytes(text).Select(b => (char)b)]);
        });

        pieces.Sample(piece =>
        {
            foreach (var encoding in new[] { BpeEncoding.O200kBase, BpeEncoding.Cl100kBase })
            {
                List<int> scanned = [], heaped = [];
                encoding.MergeShortPiece(piece, scanned);
                encoding.MergeLongPiece(piece, heaped);
                Assert.Equal(scanned, heaped);
            }
        }, iter: 300);
    }

    [Fact]
    public void Counting_gives_the_number_of_ids_encoding_does_for_short_long_and_mixed_texts()
    {
        // Words, long runs of one character (pieces past the stack buffer and into the heap merge), emoji and Vietnamese.
        var alphabets = new[] { "the cat sat on a mat ", "aaaaaaaaaa", "đường phố Hà Nội ", "😀👍🏽 ", "!@#$%^&*()\n\t", "0123456789", "xyzw" };
        var texts = Gen.Select(Gen.Int[0, alphabets.Length - 1], Gen.Int[0, 2_000], Gen.Int[0, int.MaxValue]).Select((alphabet, length, seed) =>
        {
            var random = new Random(seed);
            return string.Concat(Enumerable.Range(0, length).Select(_ => random.Next(10) == 0
                ? alphabets[random.Next(alphabets.Length)][0]
                : alphabets[alphabet][random.Next(alphabets[alphabet].Length)]));
        });

        texts.Sample(text =>
        {
            foreach (var encoding in new[] { BpeEncoding.O200kBase, BpeEncoding.Cl100kBase })
            {
                // Twice: the second count of a long text is the remembered one, and must be the same.
                Assert.Equal(encoding.Encode(text).Count, encoding.Count(text));
                Assert.Equal(encoding.Encode(text).Count, encoding.Count(text));
            }
        }, iter: 300);
    }

    [Fact]
    public void Remembered_counts_stay_within_their_bound_however_many_texts_are_counted()
    {
        var encoding = BpeEncoding.Load("cl100k_base"); // its own instance: other tests count with the shared one
        var text = new string('x', 600_000) + " and a tail";
        var distinct = 0;
        for (var i = 0; i < 20; i++)
        {
            var variant = i + text; // each 600,011+ characters: 20 of them are three times the bound
            Assert.Equal(encoding.Encode(variant).Count, encoding.Count(variant));
            Assert.InRange(encoding.RememberedChars, 0, BpeEncoding.RememberedMaxChars);
            distinct++;
        }

        Assert.Equal(20, distinct);
        var tooLong = new string('y', (int)(BpeEncoding.RememberedMaxChars / 4) + 1);
        var before = encoding.RememberedChars;
        Assert.Equal(encoding.Encode(tooLong).Count, encoding.Count(tooLong));
        Assert.Equal(before, encoding.RememberedChars); // a text over a quarter of the bound is never kept
    }

    private static List<int> Ids(JsonElement golden, string encoding) => [.. golden.GetProperty(encoding).EnumerateArray().Select(e => e.GetInt32())];
}
