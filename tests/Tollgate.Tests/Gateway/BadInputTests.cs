using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>Bad input gets OpenAI's error JSON with the right 4xx status, reaches no provider and leaves no record.</summary>
public sealed class BadInputTests : GatewayWithFakeUpstream
{
    protected override string Settings => "max_request_body_bytes: 4096\n";

    public static TheoryData<string, HttpStatusCode, string> BadBodies => new()
    {
        { "{\"model\": \"gpt-4o-mini\", \"messages\": [", HttpStatusCode.BadRequest, "invalid_json" },
        { "not json at all", HttpStatusCode.BadRequest, "invalid_json" },
        { "", HttpStatusCode.BadRequest, "invalid_request_error" },
        { "[1,2,3]", HttpStatusCode.BadRequest, "invalid_request_error" },
        { "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", HttpStatusCode.BadRequest, "missing_model" },
        { "{\"model\":null,\"messages\":[]}", HttpStatusCode.BadRequest, "missing_model" },
        { "{\"model\":42,\"messages\":[]}", HttpStatusCode.BadRequest, "invalid_model" },
        { "{\"model\":\"no-such-alias\",\"messages\":[]}", HttpStatusCode.NotFound, "model_not_found" },
        { "{\"model\":\"gpt-4o-mini\"}", HttpStatusCode.BadRequest, "missing_required_parameter" },
        { "{\"model\":\"gpt-4o-mini\",\"messages\":\"hi\"}", HttpStatusCode.BadRequest, "invalid_type" },
        { "{\"model\":\"gpt-4o-mini\",\"stream\":\"yes\",\"messages\":[]}", HttpStatusCode.BadRequest, "invalid_type" },
        { new string('[', 100) + new string(']', 100), HttpStatusCode.BadRequest, "invalid_json" },
        { "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"content\":\"" + new string('x', 5000) + "\"}]}", HttpStatusCode.RequestEntityTooLarge, "request_too_large" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_bodies_get_an_openai_error_with_a_4xx_status(string body, HttpStatusCode status, string code)
    {
        var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertOpenAiError(response, status, code);
        Assert.Empty(Upstream.Received);
        Assert.Empty(await Gateway.RecordsAsync(0));
    }

    [Fact]
    public async Task A_body_without_content_length_is_held_to_the_same_limit()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"model\":\"gpt-4o-mini\",\"input\":\"" + new string('x', 10_000) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        await AssertOpenAiError(await Gateway.Client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-key")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task A_missing_or_wrong_key_is_401_and_the_key_is_not_echoed(string? authorization)
    {
        using var client = new HttpClient { BaseAddress = Gateway.BaseUrl };
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("{\"model\":\"gpt-4o-mini\",\"messages\":[]}", Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await client.SendAsync(request);

        var body = await AssertOpenAiError(response, HttpStatusCode.Unauthorized, "invalid_api_key");
        Assert.DoesNotContain("wrong-key", body, StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Malformed_tags_are_a_400_naming_the_header()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("{\"model\":\"gpt-4o-mini\",\"messages\":[]}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Tags", "team=core,oops");

        var body = await AssertOpenAiError(await Gateway.Client.SendAsync(request), HttpStatusCode.BadRequest, "invalid_header");
        Assert.Contains("X-Tags", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_paths_are_a_json_404()
    {
        await AssertOpenAiError(await Gateway.Client.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound, "unknown_url");
    }

    [Fact]
    public async Task The_openai_sdk_sees_an_unknown_alias_as_a_404_client_error()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Gateway.OpenAiChat("gpt-5-ultra").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, ex.Status);
        Assert.Contains("gpt-5-ultra", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_lists_the_aliases_in_openai_format()
    {
        var response = await Gateway.Client.GetAsync("/v1/models");

        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("list", json.GetProperty("object").GetString());
        Assert.Equal(["gpt-4o-mini"], json.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }

    private static async Task<string> AssertOpenAiError(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _));
        if (code != "invalid_request_error")
        {
            Assert.Equal(code, error.GetProperty("code").GetString());
        }

        return body;
    }
}
