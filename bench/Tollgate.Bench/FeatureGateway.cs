using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Tollgate.Configuration;
using Tollgate.Gateway;

namespace Tollgate.Bench;

/// <summary>
/// A gateway with some of the features a team turns on — from its config (a hard budget, required tags) and a virtual
/// key made through its admin API (with or without limits) — and the headers its requests carry: one row of what each
/// feature costs a request.
/// </summary>
internal sealed class FeatureGateway : IAsyncDisposable
{
    /// <summary>Attribution on every request, as an instrumented app sends it.</summary>
    public static readonly IReadOnlyDictionary<string, string> Attribution = new Dictionary<string, string>
    {
        ["X-User-ID"] = "user-42", ["X-Feature"] = "summarise", ["X-Cost-Center"] = "CC-7", ["X-Session-ID"] = "session-9", ["X-Tags"] = "team=search,tier=pro",
    };

    /// <summary>A monthly hard budget over all spend, too high to be reached.</summary>
    public const string HardBudget = "budgets:\n  - { name: everything, scope: global, period: monthly, limit_usd: 1000000, hard: true }\n";

    /// <summary>Requests must say their feature and cost centre.</summary>
    public const string RequiredTags = "policies:\n  required_tags: [feature, cost_center]\n";

    /// <summary>A virtual key with requests- and tokens-per-minute limits too high to be reached.</summary>
    public const string LimitedKey = """{"name":"bench","rpm":1000000000,"tpm":2000000000,"tags":{"project":"bench"}}""";

    public const string PlainKey = """{"name":"bench"}""";

    /// <summary>The exact response cache on; its requests all miss (distinct questions), each answer keyed and kept.</summary>
    public const string ExactCache = "cache:\n  exact: { ttl_seconds: 60, max_mb: 16 }\n";

    /// <summary>The semantic cache on too (lexical embedder, at most 4,096 questions): each miss embeds, searches, guards and remembers.</summary>
    public const string SemanticCache = ExactCache + "  semantic: { aliases: [gpt-4o-mini], embedder: lexical, threshold: 0.91, max_entries: 4096 }\n";

    /// <summary>A router in front of the alias: five rules that do not match (feature, tag, characters, tools, a regex), then weights.</summary>
    public const string Router = """
        routers:
          bench-router:
            targets: [gpt-4o-mini]
            rules:
              - { name: analysis, feature: analysis, target: gpt-4o-mini }
              - { name: team, tag: "team=finance", target: gpt-4o-mini }
              - { name: long, min_chars: 100000, target: gpt-4o-mini }
              - { name: tools, tools: true, target: gpt-4o-mini }
              - { name: refunds, regex: "(?i)refund|hoàn tiền", target: gpt-4o-mini }
            weights: { gpt-4o-mini: 1 }
        """ + "\n";

    /// <summary>The question every bench body asks (made distinct per request for the cache rows).</summary>
    public const string Question = "Summarise the plot of Hamlet in two sentences.";

    private readonly WebApplication _app;

    public IServiceProvider Services => _app.Services;
    private readonly string _directory;

    private FeatureGateway(WebApplication app, string directory, string bearer, IReadOnlyDictionary<string, string>? headers)
    {
        _app = app;
        _directory = directory;
        Bearer = bearer;
        Headers = headers;
    }

    public Uri Url => new(new Uri(_app.Urls.First()), "/v1/chat/completions");

    public string Bearer { get; }

    public IReadOnlyDictionary<string, string>? Headers { get; }

    /// <summary>Starts it with <paramref name="settings"/> in its config; with <paramref name="key"/> (the body of <c>POST /admin/keys</c>) its requests use that key, else the master key.</summary>
    public static async Task<FeatureGateway> StartAsync(
        Func<string, string, GatewayConfig> config, string settings, string directory, string masterKey, string? key, IReadOnlyDictionary<string, string>? headers)
    {
        ArgumentNullException.ThrowIfNull(config);
        var app = GatewayHost.Build(config(settings, directory), masterKey);
        await app.StartAsync();
        var bearer = key is null ? masterKey : await CreateKeyAsync(new Uri(app.Urls.First()), masterKey, key);
        return new FeatureGateway(app, directory, bearer, headers);
    }

    /// <summary>Makes a virtual key through the gateway's admin API (<paramref name="key"/>: the body of <c>POST /admin/keys</c>) and gives its secret.</summary>
    public static async Task<string> CreateKeyAsync(Uri gateway, string masterKey, string key)
    {
        using var admin = new HttpClient { BaseAddress = gateway };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", masterKey);
        using var created = await admin.PostAsync("/admin/keys", new StringContent(key, Encoding.UTF8, "application/json"));
        created.EnsureSuccessStatusCode();
        return System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
