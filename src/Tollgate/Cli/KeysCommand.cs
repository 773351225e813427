using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Gateway;

namespace Tollgate.Cli;

/// <summary>
/// <c>tollgate keys create|list|show|rotate|revoke</c>: a client of the running gateway's admin API, so that every change
/// reaches the gateway that checks keys (a revoked key fails on its next request).
/// </summary>
public static class KeysCommand
{
    public static Command Build(Func<string?, GatewayConfig?> loadConfig)
    {
        var admin = new AdminApiClient(loadConfig);

        var name = new Option<string>("--name") { Description = "What the key is for (a customer, a team, a service).", Required = true };
        var models = new Option<string?>("--models") { Description = "Aliases the key may use, comma-separated (default: all)." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "The most output tokens one request may ask for." };
        var tags = new Option<string[]>("--tag") { Description = "Attribution the key's requests carry: feature=x, cost_center=y, team=z… (repeatable).", AllowMultipleArgumentsPerToken = false };
        var lockTags = new Option<bool>("--lock-tags") { Description = "Request headers cannot override the key's tags." };
        var expires = new Option<int?>("--expires-in-days") { Description = "The key stops working after this many days." };
        var id = new Argument<string>("id") { Description = "The key's id (key_…)." };
        var grace = new Option<int>("--grace-seconds") { Description = "How long the old secret keeps working after rotation.", DefaultValueFactory = _ => 0 };

        var create = new Command("create", "Create a key; its secret is shown this once.") { name, models, maxTokens, tags, lockTags, expires };
        create.SetAction((parse, ct) => admin.RunAsync(parse, async client =>
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["name"] = parse.GetValue(name),
                ["models"] = parse.GetValue(models)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                ["max_tokens"] = parse.GetValue(maxTokens),
                ["tags"] = (parse.GetValue(tags) ?? []).Select(t => t.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim()),
                ["lock_tags"] = parse.GetValue(lockTags),
                ["expires_in_days"] = parse.GetValue(expires),
            });
            return await client.PostAsync("/admin/keys", new StringContent(body, Encoding.UTF8, "application/json"), ct);
        }, PrintSecret, ct));
        var list = new Command("list", "List keys (never their secrets).");
        list.SetAction((parse, ct) => admin.RunAsync(parse, client => client.GetAsync("/admin/keys", ct), PrintList, ct));
        var show = new Command("show", "Show one key.") { id };
        show.SetAction((parse, ct) => admin.RunAsync(parse, client => client.GetAsync($"/admin/keys/{parse.GetValue(id)}", ct), AdminApiClient.PrintJson, ct));
        var rotate = new Command("rotate", "Issue a new secret with the same scopes; the old one lasts --grace-seconds.") { id, grace };
        rotate.SetAction((parse, ct) => admin.RunAsync(parse, client => client.PostAsync($"/admin/keys/{parse.GetValue(id)}/rotate?grace_seconds={parse.GetValue(grace).ToString(CultureInfo.InvariantCulture)}", null, ct), PrintSecret, ct));
        var revoke = new Command("revoke", "Revoke a key: its next request fails.") { id };
        revoke.SetAction((parse, ct) => admin.RunAsync(parse, client => client.PostAsync($"/admin/keys/{parse.GetValue(id)}/revoke", null, ct), AdminApiClient.PrintJson, ct));

        return admin.Attach(new Command("keys", "Manage virtual keys through the running gateway's admin API.") { create, list, show, rotate, revoke });
    }

    private static void PrintSecret(JsonElement json)
    {
        var details = json.GetProperty("details");
        Console.WriteLine($"Key {details.GetProperty("id").GetString()} ({details.GetProperty("name").GetString()}):");
        Console.WriteLine($"  {json.GetProperty("key").GetString()}");
        Console.WriteLine("This is the only time the secret is shown; Tollgate keeps only its hash.");
    }

    private static void PrintList(JsonElement json)
    {
        Console.WriteLine($"{"ID",-25} {"NAME",-20} {"PREFIX",-20} {"MODELS",-24} {"MAX TOKENS",10}  STATE");
        foreach (var key in json.GetProperty("data").EnumerateArray())
        {
            var state = key.TryGetProperty("revoked_at", out _) ? "revoked"
                : key.TryGetProperty("expires_at", out var expires) ? (expires.GetDateTimeOffset() <= DateTimeOffset.UtcNow ? "expired " : "expires ")
                    + expires.GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)
                : "active";
            var models = string.Join(",", key.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
            var max = key.TryGetProperty("max_tokens", out var m) ? m.GetInt32().ToString(CultureInfo.InvariantCulture) : "-";
            Console.WriteLine($"{key.GetProperty("id").GetString(),-25} {key.GetProperty("name").GetString(),-20} {key.GetProperty("prefix").GetString(),-20} {(models.Length == 0 ? "(all)" : models),-24} {max,10}  {state}");
        }
    }

}
