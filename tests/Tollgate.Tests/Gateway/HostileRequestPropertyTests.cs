using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// The README's promise under generated hostile input, on every endpoint: never a 5xx, every refusal in the error JSON
/// of the endpoint's protocol, no request that buys seconds of CPU, a normal request still answered afterwards, and
/// exactly one ledger record for every request that reached a provider. A failing case prints its CsCheck seed; set
/// it as <c>CsCheck_Seed</c> to replay it.
/// </summary>
public sealed class HostileRequestPropertyTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// Generous on purpose: a loaded CI machine must not fail it, while the quadratic counting it guards against took
    /// 8–16 s (and minutes for a 1 MB word). Linear work on a large body is given time in proportion: 5 s plus 5 s per MB
    /// (a 1 MB word is tokenized for a budget's estimate, ~0.8 s on a Debug build, and once took 6.4 s on a loaded run).
    /// </summary>
    private static readonly TimeSpan SlowestAllowed = TimeSpan.FromSeconds(5);

    private static TimeSpan AllowedFor(HostileRequest request) => SlowestAllowed + TimeSpan.FromSeconds(5.0 * (request.Body?.Length ?? 0) / 1_000_000);

    private FakeOpenAiUpstream _openAi = null!;
    private FakeAnthropicUpstream _anthropic = null!;
    private FakeGeminiUpstream _gemini = null!;
    private TestGateway _gateway = null!;
    private HttpClient _client = null!;
    private string _virtualKey = null!;

    public async Task InitializeAsync()
    {
        _openAi = await FakeOpenAiUpstream.StartAsync();
        _anthropic = await FakeAnthropicUpstream.StartAsync();
        _gemini = await FakeGeminiUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync($$"""
            max_request_body_bytes: 4194304
            storage:
              record_prompt_facts: true
              prompt_facts_embedder: lexical
            batches:
              poll_interval_seconds: 86400
            cache:
              exact: { ttl_seconds: 3600 }
              semantic: { aliases: [gpt-4o-mini, claude], embedder: lexical, threshold: 0.91 }
            retries:
              max_retries: 0
            routers:
              routed:
                targets: [gpt-4o-mini, claude, gemini]
                rules:
                  - { name: words, regex: "(?i)(chào|hello)+\\s*\\d*", target: claude }
                  - { name: long, min_tokens: 50, target: gemini }
                  - { name: tools, tools: true, images: true, target: gpt-4o-mini }
                weights: { gpt-4o-mini: 1, claude: 1 }
            budgets:
              - { name: everything, scope: global, period: monthly, limit_usd: 1000000 }
            models:
            {{TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _openAi.BaseUrl)}}
            {{TestGateway.Model("embed", "text-embedding-3-small", _openAi.BaseUrl)}}
              - alias: claude
                provider: anthropic
                model: claude-haiku-4-5
                base_url: {{_anthropic.BaseUrl}}
                api_key: sk-ant-upstream-secret
              - alias: gemini
                provider: gemini
                model: gemini-2.5-flash
                base_url: {{_gemini.BaseUrl}}
                api_key: goog-upstream-secret
              - alias: mock-gpt
                provider: mock
                model: mock-gpt
                price_as: gpt-4o-mini
                mock: { latency_ms: 0, chunk_delay_ms: 0, reply_tokens: 10 }
            """);

        // Headers as clients really send them: UTF-8 attribution values included.
        _client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = _gateway.BaseUrl };
        using var created = await _gateway.Client.PostAsync("/admin/keys", new StringContent(
            """{"name":"fuzz-key","rpm":1000000,"tpm":2000000000}""", Encoding.UTF8, "application/json"));
        _virtualKey = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _openAi.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _gemini.DisposeAsync();
    }

    [Fact]
    public async Task Generated_hostile_requests_never_get_a_5xx_and_every_refusal_is_error_json()
    {
        // The first requests of a new gateway compile its code; the time bound is for hostile requests, not start-up.
        await WarmUpAsync();
        var slowest = TimeSpan.Zero;
        var statuses = new Dictionary<int, int>();

        await HostileRequests.All.SampleAsync(
            async request =>
            {
                var (status, body, contentType, elapsed) = await SendAsync(request);
                lock (statuses)
                {
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    slowest = elapsed > slowest ? elapsed : slowest;
                }

                if (elapsed > TimeSpan.FromSeconds(1))
                {
                    output.WriteLine($"slow ({elapsed.TotalMilliseconds:F0} ms, {status}): {request.Description}");
                }

                Assert.True(status < 500, $"{status}: {Shorten(body)}");
                Assert.True(elapsed < AllowedFor(request), $"took {elapsed.TotalSeconds:F1} s");
                if (status >= 400)
                {
                    AssertErrorJson(status, body, contentType);
                }
            },
            writeLine: output.WriteLine,
            iter: 6000,
            threads: 2,
            print: request => request.Description);

        output.WriteLine($"statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}; slowest {slowest.TotalMilliseconds:F0} ms");
        Assert.Contains(statuses.Keys, s => s is >= 200 and < 300);
        Assert.Contains(statuses.Keys, s => s == 400);

        // The gateway still serves a normal request, and every request that reached a provider left exactly one record.
        using var normal = await _gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"still there?"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, normal.StatusCode);
        // Batches are not polled during the run (the first poll is a day away), so every call to the fake's files and batches is a client's.
        var reachedProviders = _openAi.Received.Count + _openAi.Batches.Calls.Count + _anthropic.Received.Count + _anthropic.Batches.Calls.Count + _gemini.Received.Count;
        var records = await _gateway.RecordsAsync(reachedProviders);
        // With the response cache on, a whole hit is recorded without a provider call ($0); a partly kept embeddings call did reach one.
        bool Served(UsageRecord r) => r.ResponseCacheHit is ResponseCacheHit.Exact or ResponseCacheHit.Semantic;
        var providerRecords = records.Where(r => r.Provider != "mock" && !Served(r)).ToList();
        Assert.All(records.Where(Served), r => Assert.Equal(0m, r.Cost.Total));
        output.WriteLine($"provider calls: openai {_openAi.Received.Count}, anthropic {_anthropic.Received.Count}, gemini {_gemini.Received.Count}; "
            + $"files and batches {_openAi.Batches.Calls.Count}, message batches {_anthropic.Batches.Calls.Count}; records: {string.Join(", ", providerRecords.GroupBy(r => (r.Provider, r.Endpoint, r.Status)).Select(g => $"{g.Key} {g.Count()}"))}; "
            + $"cache hits: {records.Count(r => r.ResponseCacheHit == ResponseCacheHit.Exact)}, semantic: {records.Count(r => r.ResponseCacheHit == ResponseCacheHit.Semantic)}, partial: {records.Count(r => r.ResponseCacheHit == ResponseCacheHit.Partial)}");
        Assert.Equal(reachedProviders, providerRecords.Count);
        Assert.Equal(providerRecords.Count, providerRecords.Select(r => r.Id).Distinct().Count());
        Assert.DoesNotContain(records, r => (r.Error ?? "").Contains("upstream-secret", StringComparison.Ordinal));
    }

    private async Task<(int Status, string Body, string? ContentType, TimeSpan Elapsed)> SendAsync(HostileRequest request)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
        if (request.Body is { } bytes)
        {
            message.Content = new ByteArrayContent(bytes);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        var hasAuthorization = false;
        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                if (message.Content is not null)
                {
                    message.Content.Headers.Remove("Content-Type");
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", value);
                }

                continue;
            }

            hasAuthorization |= name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.Equals("x-api-key", StringComparison.OrdinalIgnoreCase);
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (!hasAuthorization)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", request.UseVirtualKey && !request.Path.StartsWith("/admin", StringComparison.Ordinal) ? _virtualKey : TestGateway.MasterKey);
        }

        var stopwatch = Stopwatch.StartNew();
        using var response = await _client.SendAsync(message);
        var body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, body, response.Content.Headers.ContentType?.MediaType, stopwatch.Elapsed);
    }

    /// <summary>OpenAI's error object (Anthropic's on /v1/messages has the same <c>error.message</c>), as JSON.</summary>
    private static void AssertErrorJson(int status, string body, string? contentType)
    {
        Assert.True(contentType == "application/json", $"{status} with content type '{contentType}': {Shorten(body)}");
        using var document = JsonDocument.Parse(body);
        Assert.True(
            document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String,
            $"{status} without an error message: {Shorten(body)}");
    }

    private async Task WarmUpAsync()
    {
        foreach (var (path, body) in new[]
        {
            ("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"""),
            ("/v1/chat/completions", """{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}"""),
            ("/v1/chat/completions", """{"model":"gemini","messages":[{"role":"user","content":"hi"}]}"""),
            ("/v1/messages", """{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"""),
            ("/v1/embeddings", """{"model":"embed","input":"hi"}"""),
            ("/v1/cost/estimate", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"""),
        })
        {
            using var response = await _gateway.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            await response.Content.ReadAsStringAsync();
        }
    }

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "…";
}
