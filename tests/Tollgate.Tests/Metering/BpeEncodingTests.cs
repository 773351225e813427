using System.Text.Json;
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

    private static List<int> Ids(JsonElement golden, string encoding) => [.. golden.GetProperty(encoding).EnumerateArray().Select(e => e.GetInt32())];
}
