using System.CommandLine;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary><c>tollgate cache show|purge</c>: a client of the running gateway's <c>/admin/cache</c>.</summary>
public static class CacheCommand
{
    public static Command Build(Func<string?, GatewayConfig?> loadConfig)
    {
        var admin = new AdminApiClient(loadConfig);
        var scope = new Option<string?>("--scope") { Description = "Only this scope's answers: key:ID, tag:NAME=VALUE or global." };
        var alias = new Option<string?>("--alias") { Description = "Only answers asked of this alias." };
        var olderThan = new Option<string?>("--older-than") { Description = "Only answers kept longer ago than this: 90m, 24h, 7d, or a date (UTC)." };

        var show = new Command("show", "The response cache's settings, entries and bytes.");
        show.SetAction((parse, ct) => admin.PrintAsync(parse, "/admin/cache", ct));
        var purge = new Command("purge", "Remove kept answers (all of them when no condition is given).") { scope, alias, olderThan };
        purge.SetAction((parse, ct) =>
        {
            var query = new List<string>();
            foreach (var (name, value) in new[] { ("scope", parse.GetValue(scope)), ("alias", parse.GetValue(alias)), ("older_than", parse.GetValue(olderThan)) })
            {
                if (!string.IsNullOrEmpty(value))
                {
                    query.Add($"{name}={Uri.EscapeDataString(value)}");
                }
            }

            var path = "/admin/cache" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty);
            return admin.RunAsync(parse, client => client.DeleteAsync(path, ct), AdminApiClient.PrintJson, ct);
        });

        return admin.Attach(new Command("cache", "The response cache, through the running gateway's admin API.") { show, purge });
    }
}
