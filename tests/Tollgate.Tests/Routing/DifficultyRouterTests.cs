using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Gateway.Pipeline;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Routing.Difficulty;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Routing;

/// <summary>
/// The difficulty strategy through the gateway: the seed's centroid rule (examples per class, a margin) sends simple
/// questions — opening hours, refund policy — to the cheap target and multi-step analysis to the strong one, in English
/// and Vietnamese; a trained model file does the same by its threshold.
/// </summary>
public sealed class DifficultyRouterTests : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;
    private TestGateway? _gateway;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private async Task<TestGateway> StartAsync(string difficulty)
    {
        _gateway = await TestGateway.StartAsync($"""
            routers:
              bot:
                targets: [mini, big]
                difficulty:
            {difficulty}
            models:
            {TestGateway.Model("mini", "gpt-4o-mini", _upstream.BaseUrl)}
            {TestGateway.Model("big", "gpt-4o", _upstream.BaseUrl)}
            """);
        return _gateway;
    }

    private static async Task<string> RouteOfAsync(TestGateway gateway, string question)
    {
        var body = "{\"model\":\"bot\",\"messages\":[{\"role\":\"user\",\"content\":" + JsonSerializer.Serialize(question) + "}]}";
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues(ProxyRequestHandler.RouteHeader).Single();
    }

    [Fact]
    public async Task The_centroid_rule_sends_simple_questions_to_the_cheap_target_and_analysis_to_the_strong_one_in_english_and_vietnamese()
    {
        var gateway = await StartAsync("""
                  embedder: lexical
                  strong: big
                  cheap: mini
                  margin: 0.02
                  simple:
                    - What are your opening hours?
                    - What is your refund policy?
                    - How long does shipping take?
                    - Mấy giờ cửa hàng mở cửa?
                    - Chính sách hoàn tiền của shop thế nào?
                    - Giao hàng mất bao lâu?
                  complex:
                    - Analyse our sales by region, compare them with last year and recommend a pricing strategy step by step.
                    - Compare the churn of each customer cohort, explain the causes and propose a retention plan with costs.
                    - Phân tích doanh thu theo từng khu vực, so sánh với năm ngoái và đề xuất chiến lược giá từng bước.
                    - So sánh tỷ lệ rời bỏ của từng nhóm khách hàng, giải thích nguyên nhân và đề xuất kế hoạch giữ chân.
            """);

        string[] cheap =
        [
            "When are your opening hours on Sunday?",
            "Can you explain the refund policy for sale items?",
            "Cửa hàng mở cửa lúc mấy giờ vậy?",
            "Shop có chính sách hoàn tiền không?",
        ];
        string[] strong =
        [
            "Analyse the regional sales figures, compare with last quarter and recommend next steps.",
            "Compare churn across cohorts and propose a retention strategy with a cost estimate.",
            "Phân tích doanh thu từng khu vực quý này, so sánh với quý trước và đề xuất chiến lược.",
            "So sánh tỷ lệ rời bỏ giữa các nhóm khách hàng và đề xuất kế hoạch giữ chân khách.",
        ];

        foreach (var question in cheap)
        {
            Assert.StartsWith("mini; reason=difficulty:", await RouteOfAsync(gateway, question), StringComparison.Ordinal);
        }

        foreach (var question in strong)
        {
            Assert.StartsWith("big; reason=difficulty:", await RouteOfAsync(gateway, question), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_trained_model_file_routes_by_its_threshold()
    {
        // A model trained here on a handful of labelled prompts (the command trains on thousands the same way).
        var lexical = new LexicalEmbedder();
        string[] easy = ["What are your opening hours?", "What is the refund policy?", "Where is my order?", "Do you ship abroad?"];
        string[] hard = ["Prove that the square root of two is irrational.", "Derive the closed form of the recurrence and prove it by induction.",
            "Prove the triangle inequality for complex numbers.", "Derive the variance of the estimator and prove it is unbiased."];
        var prompts = easy.Concat(hard).ToArray();
        var model = DifficultyModel.Train("lexical", [.. prompts.Select(p => lexical.Embed(QueryText.Of(p).Normalised))], [.. prompts.Select(p => hard.Contains(p) ? 1.0 : 0.0)], l2: 1e-4, epochs: 500);
        var path = Path.Combine(Path.GetTempPath(), "tollgate-difficulty-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(path, model.ToJson());
        try
        {
            var gateway = await StartAsync($"""
                      embedder: lexical
                      strong: big
                      cheap: mini
                      model: {path}
                      threshold: 0.5
                """);

            Assert.StartsWith("big; reason=difficulty:", await RouteOfAsync(gateway, "Prove that the sum of two even numbers is even."), StringComparison.Ordinal);
            Assert.StartsWith("mini; reason=difficulty:", await RouteOfAsync(gateway, "What are your opening hours on Saturday?"), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
