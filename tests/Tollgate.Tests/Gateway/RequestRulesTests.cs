using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Pipeline;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The rules for the fields the gateway reads (docs/RESILIENCE.md): a 400 naming the field, and nothing sent upstream.</summary>
public sealed class RequestRulesTests : GatewayWithFakeUpstream
{
    [Theory]
    [InlineData("max_tokens", "1.5")]
    [InlineData("max_tokens", "1e30")]
    [InlineData("max_tokens", "9223372036854775808")]
    [InlineData("max_tokens", "0")]
    [InlineData("max_tokens", "\"20\"")]
    [InlineData("max_completion_tokens", "2.5")]
    [InlineData("max_completion_tokens", "1e300")]
    [InlineData("n", "0")]
    [InlineData("n", "129")]
    [InlineData("n", "2.5")]
    public async Task An_output_limit_or_choice_count_that_is_not_a_whole_number_in_range_is_a_400_naming_the_field(string field, string value)
    {
        var (status, error) = await PostAsync($$"""{"model":"gpt-4o-mini","{{field}}":{{value}},"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains(field, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
    }

    [Theory]
    [InlineData("""{"model":"gpt-\ud800","messages":[]}""", "model")]
    [InlineData("""{"model":"gpt-4o-mini","user":"\udc00","messages":[]}""", "user")]
    [InlineData("""{"model":"gpt-4o-mini","metadata":{"feature":"a\ud800b"},"messages":[]}""", "metadata.feature")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"\ud83d"}]}]}""", "messages[0].content[0].text")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ok"}],"x\ud800":1}""", "(a property name)")]
    public async Task A_lone_surrogate_anywhere_is_a_400_naming_where_and_nothing_goes_upstream(string body, string where)
    {
        var (status, error) = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_request_error", "invalid_encoding"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        Assert.Contains(where, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Invalid_utf8_bytes_in_the_body_are_a_400_and_are_never_forwarded()
    {
        byte[] body = [.. """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ab"""u8, 0xFF, 0xC0, 0xAF, .. "\"}]}"u8];

        var (status, error) = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_encoding", error.GetProperty("code").GetString());
        Assert.Contains("not valid UTF-8", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("messages[0].content", error.GetProperty("param").GetString());
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task A_surrogate_pair_escaped_as_two_escapes_is_text_and_passes()
    {
        var (status, _) = await PostAsync("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\ud83d\ude00 \\ud800 is how you write one"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(Upstream.Received);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":5}]}""", "messages[0].role")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text"}]}]}""", "messages[0].content[0].text")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":null}]}]}""", "messages[0].content[0].image_url")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"assistant","tool_calls":[{"function":null}]}]}""", "messages[0].tool_calls[0].function")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"tools":[{"type":"function","function":{"name":5}}]}""", "tools[0].function.name")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"stream_options":{"include_usage":"yes"}}""", "stream_options.include_usage")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"metadata":"team-a"}""", "metadata")]
    public async Task A_field_the_gateway_reads_or_translates_must_have_openais_type(string body, string param)
    {
        var (status, error) = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task An_embeddings_request_of_more_than_2048_inputs_is_refused()
    {
        var inputs = string.Join(",", Enumerable.Repeat("\"x\"", RequestFields.MaxEmbeddingInputs + 1));
        var (status, error) = await PostAsync($$"""{"model":"gpt-4o-mini","input":[{{inputs}}]}""", "/v1/embeddings");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_model_name_longer_than_256_characters_is_refused_without_echoing_it()
    {
        var (status, error) = await PostAsync($$"""{"model":"{{new string('m', 100_000)}}","messages":[]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(error.GetProperty("message").GetString()!.Length < 200);
    }

    [Fact]
    public async Task A_query_value_of_the_wrong_type_on_an_admin_route_is_a_400_in_error_json()
    {
        using var response = await Gateway.Client.PostAsync("/admin/keys/key_x/rotate?grace_seconds=soon", null);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("grace_seconds", error.GetProperty("param").GetString());
    }

    private Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(string body, string path = "/v1/chat/completions") => PostAsync(Encoding.UTF8.GetBytes(body), path);

    private async Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(byte[] body, string path = "/v1/chat/completions")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await Gateway.Client.PostAsync(path, content);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response.StatusCode, json.TryGetProperty("error", out var error) ? error : json);
    }
}
