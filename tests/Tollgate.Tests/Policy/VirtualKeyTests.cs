using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Tollgate.Policy.Keys;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Policy;

public sealed class VirtualKeyTests : GatewayWithFakeUpstream
{
    protected override string Models(Uri upstream) =>
        TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream) + TestGateway.Model("gpt-4o", "gpt-4o", upstream);

    private async Task<(string Secret, JsonElement Details)> CreateKeyAsync(object request)
    {
        var response = await Gateway.Client.PostAsync("/admin/keys", new StringContent(JsonSerializer.Serialize(request), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (json.GetProperty("key").GetString()!, json.GetProperty("details").Clone());
    }

    private HttpClient ClientWith(string key)
    {
        var client = new HttpClient { BaseAddress = Gateway.BaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static StringContent Chat(string model, int? maxTokens = null) => new(
        $$"""{"model":"{{model}}"{{(maxTokens is null ? "" : $",\"max_tokens\":{maxTokens}")}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_created_key_works_with_the_openai_sdk_and_is_attributed_with_its_tags()
    {
        var (secret, details) = await CreateKeyAsync(new { name = "acme", tags = new { cost_center = "CC-7", team = "growth" } });

        var chat = new ChatClient("gpt-4o-mini", new ApiKeyCredential(secret), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl, "/v1") });
        var completion = (await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.StartsWith("sk-tg-", secret, StringComparison.Ordinal);
        Assert.True(secret.Length >= 6 + 64);
        Assert.Equal(Upstream.ReplyText, completion.Content[0].Text);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(details.GetProperty("id").GetString(), record.Attribution.KeyId);
        Assert.Equal("CC-7", record.Attribution.CostCenter);
        Assert.Equal("growth", record.Attribution.Tags["team"]);
        Assert.DoesNotContain(Upstream.Received.Single().Headers.Values, v => v.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Secrets_are_never_stored_or_listed_only_their_hash_and_prefix()
    {
        var (secret, details) = await CreateKeyAsync(new { name = "stored" });

        var list = await (await Gateway.Client.GetAsync("/admin/keys")).Content.ReadAsStringAsync();
        // The database and its write-ahead log, where recent writes still are.
        var files = Directory.GetFiles(Path.GetDirectoryName(Gateway.Config.Storage.SqlitePath)!, Path.GetFileName(Gateway.Config.Storage.SqlitePath) + "*");
        var database = files.SelectMany(f =>
        {
            using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }).ToArray();

        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
        Assert.Contains(details.GetProperty("prefix").GetString()!, list, StringComparison.Ordinal);
        Assert.False(Encoding.UTF8.GetString(database).Contains(secret, StringComparison.Ordinal));
        Assert.True(Encoding.UTF8.GetString(database).Contains(KeySecret.Hash(secret), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_may_only_use_its_models_and_sees_only_them()
    {
        var (secret, _) = await CreateKeyAsync(new { name = "mini-only", models = new[] { "gpt-4o-mini" } });
        using var client = ClientWith(secret);

        var denied = await client.PostAsync("/v1/chat/completions", Chat("gpt-4o"));
        var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models")).RootElement;

        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("model_not_allowed", JsonDocument.Parse(await denied.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(["gpt-4o-mini"], models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Locked_tags_cannot_be_overridden_and_unlocked_ones_can()
    {
        var (locked, _) = await CreateKeyAsync(new { name = "locked", tags = new { feature = "support-bot" }, lock_tags = true });
        var (open, _) = await CreateKeyAsync(new { name = "open", tags = new { feature = "support-bot" } });

        foreach (var secret in new[] { locked, open })
        {
            using var client = ClientWith(secret);
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat("gpt-4o-mini") };
            request.Headers.Add("X-Feature", "something-else");
            await client.SendAsync(request);
        }

        var records = await Gateway.RecordsAsync(2);
        Assert.Equal(["something-else", "support-bot"], records.Select(r => r.Attribution.Feature!).Order());
    }

    [Fact]
    public async Task The_keys_max_tokens_cap_is_applied()
    {
        var (secret, _) = await CreateKeyAsync(new { name = "capped", max_tokens = 64 });
        using var client = ClientWith(secret);

        await client.PostAsync("/v1/chat/completions", Chat("gpt-4o-mini", maxTokens: 4000));

        Assert.Equal(64, Upstream.Received.Single().Json.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task A_revoked_key_fails_on_its_next_request()
    {
        var (secret, details) = await CreateKeyAsync(new { name = "to-revoke" });
        using var client = ClientWith(secret);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("gpt-4o-mini"))).StatusCode);

        await Gateway.Client.PostAsync($"/admin/keys/{details.GetProperty("id").GetString()}/revoke", null);
        var after = await client.PostAsync("/v1/chat/completions", Chat("gpt-4o-mini"));

        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("revoked", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotation_issues_a_new_secret_and_the_old_one_lasts_only_its_grace_period()
    {
        var (first, firstDetails) = await CreateKeyAsync(new { name = "rotating" });
        var (second, secondDetails) = await CreateKeyAsync(new { name = "rotating-graceful" });

        var rotatedNow = JsonDocument.Parse(await (await Gateway.Client.PostAsync($"/admin/keys/{firstDetails.GetProperty("id").GetString()}/rotate", null)).Content.ReadAsStringAsync()).RootElement;
        var rotatedGrace = JsonDocument.Parse(await (await Gateway.Client.PostAsync($"/admin/keys/{secondDetails.GetProperty("id").GetString()}/rotate?grace_seconds=3600", null)).Content.ReadAsStringAsync()).RootElement;

        async Task<HttpStatusCode> Use(string key)
        {
            using var client = ClientWith(key);
            return (await client.PostAsync("/v1/chat/completions", Chat("gpt-4o-mini"))).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await Use(first));
        Assert.Equal(HttpStatusCode.OK, await Use(rotatedNow.GetProperty("key").GetString()!));
        Assert.Equal(HttpStatusCode.OK, await Use(second));
        Assert.Equal(HttpStatusCode.OK, await Use(rotatedGrace.GetProperty("key").GetString()!));
        Assert.Equal("rotating", rotatedNow.GetProperty("details").GetProperty("name").GetString());
    }

    [Fact]
    public async Task An_expired_key_is_refused()
    {
        var (secret, _) = await CreateKeyAsync(new { name = "old", expires_at = DateTimeOffset.UtcNow.AddMinutes(-1) });
        using var client = ClientWith(secret);

        var response = await client.PostAsync("/v1/chat/completions", Chat("gpt-4o-mini"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_api_needs_the_master_key()
    {
        var (secret, _) = await CreateKeyAsync(new { name = "not-admin" });
        using var withVirtualKey = ClientWith(secret);
        using var anonymous = new HttpClient { BaseAddress = Gateway.BaseUrl };

        Assert.Equal(HttpStatusCode.Forbidden, (await withVirtualKey.GetAsync("/admin/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Gateway.Client.PostAsync("/admin/keys", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task Keys_survive_a_restart()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tollgate-keys-{Guid.NewGuid():N}.db");
        try
        {
            var first = new KeyRegistry(new Tollgate.Ledger.Sqlite.SqliteKeyStore(path), TimeProvider.System);
            await first.LoadAsync(CancellationToken.None);
            var (key, secret) = await first.CreateAsync(new KeyRequest("persisted", ["gpt-4o"], 10, new Dictionary<string, string> { ["env"] = "prod" }, true, null), CancellationToken.None);

            var second = new KeyRegistry(new Tollgate.Ledger.Sqlite.SqliteKeyStore(path), TimeProvider.System);
            await second.LoadAsync(CancellationToken.None);

            var found = second.FindBySecret(secret)!;
            Assert.Equal((key.Id, key.Hash, key.MaxTokensCap, key.LockTags), (found.Id, found.Hash, found.MaxTokensCap, found.LockTags));
            Assert.Equal(["gpt-4o"], found.AllowedModels);
            Assert.Equal("prod", found.Tags["env"]);
            Assert.Null(second.FindBySecret(secret + "x"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }
}
