using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary><c>tollgate budgets set|list|show</c>: a client of the running gateway's <c>/admin/budgets</c>.</summary>
public static class BudgetsCommand
{
    public static Command Build(Func<string?, GatewayConfig?> loadConfig)
    {
        var admin = new AdminApiClient(loadConfig);
        var name = new Argument<string>("name") { Description = "The budget's name." };
        var scope = new Option<string>("--scope") { Description = "global, key, user, cost_center (or cost-center), feature, project, env or tag:NAME.", DefaultValueFactory = _ => "global" };
        var value = new Option<string?>("--value") { Description = "The key id, user, feature… the budget covers (not for global)." };
        var period = new Option<string>("--period") { Description = "daily, weekly, monthly or total.", DefaultValueFactory = _ => "monthly" };
        var limit = new Option<decimal>("--limit-usd") { Description = "The limit in USD.", Required = true };
        var soft = new Option<bool>("--soft") { Description = "Only count and alert; never refuse requests." };
        var allowUnpriced = new Option<bool>("--allow-unpriced") { Description = "Admit requests whose cost cannot be bounded in advance (a model with no price, files, audio)." };

        var set = new Command("set", "Create or change a budget.") { name, scope, value, period, limit, soft, allowUnpriced };
        set.SetAction((parse, ct) => admin.RunAsync(parse, client =>
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["scope"] = parse.GetValue(scope),
                ["value"] = parse.GetValue(value),
                ["period"] = parse.GetValue(period),
                ["limit_usd"] = parse.GetValue(limit),
                ["hard"] = !parse.GetValue(soft),
                ["unpriced"] = parse.GetValue(allowUnpriced) ? "allow" : "refuse",
            });
            return client.PutAsync($"/admin/budgets/{Uri.EscapeDataString(parse.GetValue(name)!)}", new StringContent(body, Encoding.UTF8, "application/json"), ct);
        }, AdminApiClient.PrintJson, ct));
        var list = new Command("list", "Every budget with its spend, reservations and reset time.");
        list.SetAction((parse, ct) => admin.RunAsync(parse, client => client.GetAsync("/admin/budgets", ct), PrintList, ct));
        var show = new Command("show", "One budget.") { name };
        show.SetAction((parse, ct) => admin.RunAsync(parse, client => client.GetAsync($"/admin/budgets/{Uri.EscapeDataString(parse.GetValue(name)!)}", ct), AdminApiClient.PrintJson, ct));

        return admin.Attach(new Command("budgets", "Spending limits, through the running gateway's admin API.") { set, list, show });
    }

    /// <summary>Cents always, and every further digit there is: a $0.00005 limit is not shown as 0.00.</summary>
    private static string Usd(JsonElement budget, string field) => budget.GetProperty(field).GetDecimal().ToString("0.00##########", CultureInfo.InvariantCulture);

    private static void PrintList(JsonElement json)
    {
        Console.WriteLine($"{"NAME",-20} {"SCOPE",-24} {"PERIOD",-8} {"LIMIT",12} {"SPENT",12} {"HELD",10} {"LEFT",12}  RESETS");
        foreach (var b in json.GetProperty("data").EnumerateArray())
        {
            var scope = b.GetProperty("scope").GetString() + (b.TryGetProperty("value", out var v) ? "=" + v.GetString() : string.Empty);
            var resets = b.TryGetProperty("resets_at", out var r) ? r.GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "never";
            Console.WriteLine(
                $"{b.GetProperty("name").GetString(),-20} {scope,-24} {b.GetProperty("period").GetString(),-8} {Usd(b, "limit_usd"),12} {Usd(b, "spent_usd"),12} {Usd(b, "reserved_usd"),10} {Usd(b, "remaining_usd"),12}  {resets}{(b.GetProperty("hard").GetBoolean() ? string.Empty : " (soft)")}");
        }
    }
}
