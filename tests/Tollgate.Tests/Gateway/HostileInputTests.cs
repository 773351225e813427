using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>Input meant to break or misuse the gateway gets a 4xx in OpenAI's error shape, quickly, and leaks no key.</summary>
public sealed class HostileInputTests : GatewayWithFakeUpstream
{
    protected override string Settings => "max_request_body_bytes: 65536\nretries:\n  max_retries: 0\n";

    [Fact]
    public async Task A_provider_error_that_quotes_the_api_key_reaches_neither_the_client_nor_the_ledger()
    {
        Upstream.Fault = FakeFault.ErrorStatus;
        Upstream.FaultStatus = 401;
        Upstream.EchoKeyInErrors = true;

        var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("sk-upstream-secret", body, StringComparison.Ordinal);
        Assert.Contains("[redacted]", body, StringComparison.Ordinal);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.DoesNotContain("sk-upstream-secret", record.Error ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_key_quoted_in_an_error_event_inside_a_200_stream_is_scrubbed()
    {
        Upstream.Fault = FakeFault.ErrorEventInStream;

        using var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Incorrect API key provided: [redacted]", body, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-upstream-secret", body, StringComparison.Ordinal);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.DoesNotContain("sk-upstream-secret", record.Error ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_urls_in_the_body_are_not_followed()
    {
        await using var elsewhere = await FakeOpenAiUpstream.StartAsync();

        var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            $$"""{"model":"gpt-4o-mini","api_base":"{{elsewhere.BaseUrl}}","base_url":"{{elsewhere.BaseUrl}}","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(Upstream.Received);
        Assert.Empty(elsewhere.Received);
    }

    [Fact]
    public async Task A_control_character_in_a_forwarded_header_is_a_400_and_nothing_goes_upstream()
    {
        // Raw bytes on a socket: HttpClient itself refuses to send such a header.
        var body = """{"model":"gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""";
        var request = "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nx-api-key: " + TestGateway.MasterKey
            + "\r\nanthropic-version: 2023-06-01\r\nanthropic-beta: a\u0001b\r\nContent-Type: application/json\r\nContent-Length: " + body.Length + "\r\nConnection: close\r\n\r\n" + body;
        using var client = new TcpClient();
        await client.ConnectAsync(Gateway.BaseUrl.Host, Gateway.BaseUrl.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
    }

    [Theory]
    [InlineData(10_000, 8)]
    [InlineData(1, 100_000)]
    [InlineData(150, 10)]
    public async Task Too_many_or_too_large_headers_get_a_431_in_error_json(int count, int length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        for (var i = 0; i < count; i++)
        {
            request.Headers.TryAddWithoutValidation($"X-Filler-{i}", new string('h', length));
        }

        using var response = await Gateway.Client.SendAsync(request);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal((HttpStatusCode)431, response.StatusCode);
        Assert.Equal("request_header_fields_too_large", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_path_longer_than_8_kib_gets_a_414_in_error_json()
    {
        using var response = await Gateway.Client.GetAsync("/v1/models?q=" + new string('q', 10_000));
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        Assert.Equal("uri_too_long", error.GetProperty("code").GetString());
    }

    /// <summary>What Kestrel refuses before any application code runs (documented in RESILIENCE.md as not shaped).</summary>
    [Theory]
    [InlineData("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-User-ID: a\u0000b\r\n\r\n")]
    [InlineData("GET /v1/mo%00dels HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("HELLO\r\n\r\n")]
    public async Task What_kestrel_refuses_itself_is_a_400_with_an_empty_body_and_the_gateway_keeps_serving(string raw)
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(Gateway.BaseUrl.Host, Gateway.BaseUrl.Port);
            await using var stream = client.GetStream();
            await stream.WriteAsync(Encoding.Latin1.GetBytes(System.Text.RegularExpressions.Regex.Unescape(raw)));
            using var reader = new StreamReader(stream, Encoding.Latin1);
            var answer = await reader.ReadToEndAsync();

            Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
            Assert.Contains("Content-Length: 0", answer, StringComparison.Ordinal);
        }

        using var normal = await Gateway.Client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, normal.StatusCode);
    }

    [Fact]
    public async Task Hundreds_of_random_and_mutated_bodies_never_get_a_500_nor_hang()
    {
        var random = new Random(5);
        var seed = """{"model":"gpt-4o-mini","stream":false,"max_tokens":20,"messages":[{"role":"user","content":"Xin chào 👋"}],"user":"u1","metadata":{"feature":"chat"}}""";

        // The first requests of a new gateway and client compile their code; the time bound is for hostile bodies, not start-up.
        foreach (var (path, warm) in new[] { ("/v1/chat/completions", "{"), ("/v1/embeddings", "{"), ("/v1/chat/completions", seed) })
        {
            using var warmup = new StringContent(warm, Encoding.UTF8, "application/json");
            (await Gateway.Client.PostAsync(path, warmup)).Dispose();
        }

        for (var round = 0; round < 300; round++)
        {
            var body = (round % 4) switch
            {
                0 => RandomText(random),
                1 => new string('[', random.Next(60, 2000)) + new string(']', random.Next(0, 10)),
                _ => Mutate(seed, random),
            };
            var stopwatch = Stopwatch.StartNew();
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.TryAddWithoutValidation("Content-Type", round % 7 == 0 ? "text/plain" : "application/json");
            var response = await Gateway.Client.PostAsync(round % 2 == 0 ? "/v1/chat/completions" : "/v1/embeddings", content);
            await response.Content.ReadAsByteArrayAsync();

            Assert.True((int)response.StatusCode < 500, $"{response.StatusCode} for {body}");
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"{stopwatch.Elapsed} for {body}");
        }
    }

    private static string RandomText(Random random)
    {
        const string Alphabet = "{}[]\":,0123456789.eE-+ \\/nultrfasemodgp\u00e9\u4e2d\ud83d\ude00\t\n";
        var text = new StringBuilder();
        for (var i = random.Next(0, 300); i > 0; i--)
        {
            text.Append(Alphabet[random.Next(Alphabet.Length)]);
        }

        return text.ToString();
    }

    private static string Mutate(string seed, Random random)
    {
        var text = new StringBuilder(seed);
        for (var edits = random.Next(1, 6); edits > 0 && text.Length > 0; edits--)
        {
            var at = random.Next(text.Length);
            switch (random.Next(3))
            {
                case 0:
                    text.Remove(at, Math.Min(text.Length - at, random.Next(1, 12)));
                    break;
                case 1:
                    var insert = RandomText(random);
                    text.Insert(at, insert[..Math.Min(8, insert.Length)]);
                    break;
                default:
                    text[at] = "{}[]\":,0-9e"[random.Next(11)];
                    break;
            }
        }

        return text.ToString();
    }
}
