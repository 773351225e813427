using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Gateway;

namespace Tollgate.Cli;

/// <summary>
/// How <c>tollgate keys</c>, <c>tollgate budgets</c> and <c>tollgate analytics</c> reach the running gateway's admin API: the <c>--config</c>,
/// <c>--url</c> and <c>--master-key</c> options every such command takes, and one call with the master key.
/// </summary>
public sealed class AdminApiClient(Func<string?, GatewayConfig?> loadConfig)
{
    private readonly Func<string?, GatewayConfig?> _loadConfig = loadConfig;
    private readonly Option<string?> _config = new("--config", "-c") { Description = "The gateway's config (for its address and master key)." };
    private readonly Option<string?> _url = new("--url") { Description = "The gateway's address (default: the config's listen address)." };
    private readonly Option<string?> _masterKey = new("--master-key") { Description = "The master key (default: $TOLLGATE_MASTER_KEY, the config, or the development key)." };

    /// <summary>Gives every subcommand of <paramref name="group"/> the connection options.</summary>
    public Command Attach(Command group)
    {
        ArgumentNullException.ThrowIfNull(group);
        foreach (var command in group.Subcommands)
        {
            command.Add(_config);
            command.Add(_url);
            command.Add(_masterKey);
        }

        return group;
    }

    /// <summary>Calls the admin API with the master key and prints the answer; a refusal goes to stderr with exit code 1.</summary>
    public Task<int> RunAsync(ParseResult parse, Func<HttpClient, Task<HttpResponseMessage>> call, Action<JsonElement> print, CancellationToken cancellationToken) =>
        CallAsync(parse, call, body => print(JsonDocument.Parse(body).RootElement), cancellationToken);

    /// <summary>GETs <paramref name="path"/> and prints the body as it came (JSON or CSV).</summary>
    public Task<int> PrintAsync(ParseResult parse, string path, CancellationToken cancellationToken) =>
        CallAsync(parse, client => client.GetAsync(path, cancellationToken), body => Console.Write(body.EndsWith('\n') ? body : body + "\n"), cancellationToken);

    private async Task<int> CallAsync(ParseResult parse, Func<HttpClient, Task<HttpResponseMessage>> call, Action<string> print, CancellationToken cancellationToken)
    {
        var address = parse.GetValue(_url);
        var key = parse.GetValue(_masterKey) ?? Environment.GetEnvironmentVariable("TOLLGATE_MASTER_KEY");
        if (address is null || key is null)
        {
            var loaded = _loadConfig(parse.GetValue(_config));
            if (loaded is null)
            {
                return 2;
            }

            address ??= loaded.Listen.AbsoluteUri;
            var devKey = Path.Combine(loaded.Storage.DataDirectory, DevelopmentKey.FileName);
            key ??= loaded.MasterKey ?? (File.Exists(devKey) ? (await File.ReadAllTextAsync(devKey, cancellationToken)).Trim() : null);
        }

        if (key is null)
        {
            await Console.Error.WriteLineAsync("No master key: pass --master-key, set TOLLGATE_MASTER_KEY, or start the gateway once to create the development key.");
            return 1;
        }

        using var client = new HttpClient { BaseAddress = new Uri(address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        HttpResponseMessage response;
        try
        {
            response = await call(client);
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"The gateway at {client.BaseAddress} did not answer ({ex.Message}). Is `tollgate serve` running?");
            return 1;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var json = JsonDocument.Parse(body).RootElement;
                await Console.Error.WriteLineAsync(json.TryGetProperty("error", out var error) ? error.GetProperty("message").GetString() : json.GetRawText());
                return 1;
            }

            print(body);
            return 0;
        }
    }

    public static void PrintJson(JsonElement json) => Console.WriteLine(JsonSerializer.Serialize(json, PrettyJson));

    /// <summary>Indented, and with '+' in times as it is, not "\u002B".</summary>
    private static readonly JsonSerializerOptions PrettyJson = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
