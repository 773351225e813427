using System.ClientModel;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using Tollgate.Configuration;
using Tollgate.Gateway;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;

namespace Tollgate.Tests.Support;

/// <summary>The real gateway on 127.0.0.1 (port 0) with a throw-away SQLite ledger.</summary>
internal sealed class TestGateway : IAsyncDisposable
{
    public const string MasterKey = "sk-test-master-0123456789abcdef";

    private readonly WebApplication _app;
    private readonly string _directory;

    private TestGateway(WebApplication app, string directory, GatewayConfig config)
    {
        _app = app;
        _directory = directory;
        Config = config;
        BaseUrl = new Uri(app.Urls.First());
        Client = new HttpClient { BaseAddress = BaseUrl };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MasterKey);
    }

    public Uri BaseUrl { get; }

    public GatewayConfig Config { get; }

    /// <summary>The configuration file the gateway was started from (rewrite it, then reload).</summary>
    public string ConfigPath => Config.Source;

    /// <summary>A service of the running gateway, for tests that check its internal state.</summary>
    public T Service<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>A plain client that sends the master key.</summary>
    public HttpClient Client { get; }

    /// <param name="yaml">The configuration; listen address and storage are replaced by a free port and a temp folder.</param>
    /// <param name="environment">Environment variables the configuration may name.</param>
    /// <param name="prepareDataDirectory">Runs on the empty data folder before the gateway starts.</param>
    /// <param name="configure">Changes to the host before it is built (for example a log capture).</param>
    public static async Task<TestGateway> StartAsync(
        string yaml, IReadOnlyDictionary<string, string>? environment = null, Func<string, Task>? prepareDataDirectory = null, Action<WebApplicationBuilder>? configure = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        if (prepareDataDirectory is not null)
        {
            await prepareDataDirectory(directory);
        }

        // Written to a file, as a user's would be, so that a reload (POST /admin/routers/reload) reads it again.
        var configPath = Path.Combine(directory, "tollgate.yaml");
        await File.WriteAllTextAsync(configPath, yaml);
        var parsed = ConfigLoader.Parse(yaml, configPath, name => environment?.GetValueOrDefault(name));
        var config = parsed with
        {
            Listen = new Uri("http://127.0.0.1:0"),
            BindUrls = null,
            Storage = parsed.Storage with { DataDirectory = directory, SqlitePath = Path.Combine(directory, "ledger.db") },
        };
        var app = GatewayHost.Build(config, config.MasterKey ?? MasterKey, configure);
        await app.StartAsync();
        return new TestGateway(app, directory, config);
    }

    /// <summary>A deployment block pointing an alias at a fake upstream.</summary>
    public static string Model(string alias, string model, Uri baseUrl, string extra = "") => $"""
          - alias: {alias}
            provider: openai
            model: {model}
            base_url: {baseUrl}
            api_key: sk-upstream-secret
        {extra}
        """;

    /// <summary>Creates a virtual key through the admin API and returns its secret.</summary>
    public async Task<string> CreateKeyAsync(string name, string tagsJson = "{}")
    {
        using var created = await Client.PostAsync("/admin/keys", new StringContent(
            $"{{\"name\":\"{name}\",\"tags\":{tagsJson}}}", System.Text.Encoding.UTF8, "application/json"));
        created.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("key").GetString()!;
    }

    public ChatClient OpenAiChat(string model) =>
        new(model, new ApiKeyCredential(MasterKey), new OpenAIClientOptions { Endpoint = new Uri(BaseUrl, "/v1") });

    /// <summary>Waits until the ledger holds at least <paramref name="expected"/> records and the queue is empty, then reads them all.</summary>
    public async Task<IReadOnlyList<UsageRecord>> RecordsAsync(int expected)
    {
        var queue = _app.Services.GetRequiredService<LedgerQueue>();
        var store = _app.Services.GetRequiredService<ILedgerStore>();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        List<UsageRecord> records;
        bool drained;
        do
        {
            await Task.Delay(20);

            // The queue is looked at before the ledger is read: a record committed between the two is then in the read.
            drained = queue.Pending == 0;
            records = await ReadAllAsync(store);
        }
        while ((records.Count < expected || !drained) && DateTime.UtcNow < deadline);

        return records;
    }

    /// <summary>Stops the gateway (draining its ledger queue) and reads the ledger file afterwards.</summary>
    public async Task<IReadOnlyList<UsageRecord>> StopAndReadAsync()
    {
        await _app.StopAsync();
        await using var store = new SqliteLedgerStore(Config.Storage.SqlitePath);
        return await ReadAllAsync(store);
    }

    /// <summary>
    /// Stops this gateway (its ledger queue drained) and starts another on the same data folder and configuration, as a
    /// restart would; the new one owns the folder from then on.
    /// </summary>
    public async Task<TestGateway> RestartAsync()
    {
        _handedOn = true;
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        var app = GatewayHost.Build(Config, Config.MasterKey ?? MasterKey);
        await app.StartAsync();
        return new TestGateway(app, _directory, Config);
    }

    private bool _handedOn;

    public async ValueTask DisposeAsync()
    {
        if (_handedOn)
        {
            return;
        }

        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A pooled SQLite handle may still be closing; the folder is in the temp directory anyway.
        }
    }

    private static async Task<List<UsageRecord>> ReadAllAsync(ILedgerStore store)
    {
        var records = new List<UsageRecord>();
        await foreach (var record in store.ReadAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None))
        {
            records.Add(record);
        }

        return records;
    }
}
