using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers.OpenAiCompatible;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class OpenAiUsageMapperTests
{
    private static Usage Map(string json) => OpenAiUsageMapper.Map(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void OpenAi_cached_and_reasoning_tokens_are_subsets_of_prompt_and_completion()
    {
        var usage = Map("""
            {"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
             "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},
             "completion_tokens_details":{"reasoning_tokens":192,"audio_tokens":0}}
            """);

        Assert.Equal(new Usage(2006, 1920, null, 300, 192), usage);
        Assert.Equal(86, usage.UncachedInputTokens);
        Assert.Equal(108, usage.VisibleOutputTokens);
    }

    [Fact]
    public void Missing_details_mean_not_reported_and_zero_means_zero()
    {
        Assert.Equal(new Usage(10, null, null, 5, null), Map("""{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}"""));
        Assert.Equal(new Usage(10, 0, null, 5, 0), Map("""{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}"""));
    }

    [Fact]
    public void DeepSeek_cache_hits_are_read_when_there_is_no_details_object()
    {
        var usage = Map("""{"prompt_tokens":1000,"completion_tokens":20,"total_tokens":1020,"prompt_cache_hit_tokens":640,"prompt_cache_miss_tokens":360}""");

        Assert.Equal(640, usage.CachedInputTokens);
        Assert.Equal(360, usage.UncachedInputTokens);
    }

    [Fact]
    public void Embeddings_report_prompt_and_total_only()
    {
        Assert.Equal(new Usage(8, null, null, 0, null), Map("""{"prompt_tokens":8,"total_tokens":8}"""));
    }

    [Fact]
    public void Responses_api_names_are_understood()
    {
        var usage = Map("""{"input_tokens":50,"input_tokens_details":{"cached_tokens":10},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":80}""");

        Assert.Equal(new Usage(50, 10, null, 30, 12), usage);
    }

    [Fact]
    public void Null_or_non_object_usage_is_not_reported()
    {
        Assert.False(Map("null").IsReported);
        Assert.False(Map("""{"prompt_tokens":"many"}""").IsReported);
    }
}
