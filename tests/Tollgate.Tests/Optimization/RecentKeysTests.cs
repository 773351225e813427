using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Pipeline;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Providers;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>Remembered keys are always the key the canonical form gives, whatever was asked before.</summary>
public sealed class RecentKeysTests
{
    [Fact]
    public void A_remembered_key_is_the_canonical_key_of_those_bytes_for_that_tenant_and_endpoint()
    {
        // Generated: bodies asked again and again, by two tenants on two endpoints, with field orders that differ (one
        // canonical key, other bytes), small and over the size that is remembered, and enough distinct ones that the
        // memory starts afresh several times.
        var recent = new RecentKeys();
        var random = new Random(14);
        string[] tenants = ["key:a", "key:b"];
        GatewayEndpoint[] endpoints = [GatewayEndpoint.ChatCompletions, GatewayEndpoint.Messages];
        for (var i = 0; i < 20_000; i++)
        {
            var question = random.Next(3) == 0 ? new string('x', random.Next(9_000, 12_000)) : $"question {random.Next(i < 10_000 ? 50 : 100_000)}";
            var json = random.Next(2) == 0
                ? $$"""{"model":"m","messages":[{"role":"user","content":"{{question}}"}],"temperature":{{random.Next(2)}}}"""
                : $$"""{"temperature":{{random.Next(2)}},"messages":[{"content":"{{question}}","role":"user"}],"model":"m"}""";
            var bytes = Encoding.UTF8.GetBytes(json);
            using var document = JsonDocument.Parse(bytes);
            var (tenant, endpoint) = (tenants[random.Next(2)], endpoints[random.Next(2)]);

            Assert.Equal(ResponseCacheKey.Of(tenant, endpoint, document.RootElement), recent.KeyOf(tenant, endpoint, document.RootElement, bytes));
        }
    }

    [Fact]
    public void A_body_a_policy_rewrote_is_keyed_by_its_new_bytes()
    {
        var client = Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""");
        var rewritten = Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":100}""");
        using var parsed = new ParsedRequest(JsonDocument.Parse(client), "m", false, client);

        parsed.ReplaceBody(rewritten);

        Assert.Equal(rewritten, parsed.BodyBytes.ToArray());
        Assert.Equal(client, parsed.RawBody.ToArray());
        var recent = new RecentKeys();
        Assert.NotEqual(recent.KeyOf("global", GatewayEndpoint.ChatCompletions, JsonDocument.Parse(client).RootElement, client),
            recent.KeyOf("global", GatewayEndpoint.ChatCompletions, parsed.Body, parsed.BodyBytes.Span));
    }
}
