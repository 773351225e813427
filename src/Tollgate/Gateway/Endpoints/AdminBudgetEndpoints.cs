using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Policy.Budgets;

namespace Tollgate.Gateway.Endpoints;

/// <summary><c>/admin/budgets</c>, behind the master key: every budget with its spend, reservations and reset time; set one.</summary>
public static class AdminBudgetEndpoints
{
    private static readonly JsonSerializerOptions Json = AdminJson.Options;

    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/admin/budgets", List);
        app.MapGet(Dashboard.DashboardEndpoints.ApiPrefix + "/budgets", List);
        app.MapGet("/admin/budgets/{name}", (HttpContext context, Authenticator auth, BudgetGuard guard, string name) =>
            !auth.IsMaster(context.Request, out var error) ? Error(error!)
            : guard.Snapshot().Where(b => b.Budget.Name == name).Select(View).FirstOrDefault() is { } view ? Results.Json(view, Json)
            : Error(new GatewayError(404, "invalid_request_error", "budget_not_found", $"No budget named '{name}'.")));
        app.MapPut("/admin/budgets/{name}", SetAsync);
    }

    private static IResult List(HttpContext context, Authenticator auth, BudgetGuard guard) =>
        auth.IsMaster(context.Request, out var error) ? Results.Json(new { data = guard.Snapshot().Select(View) }, Json) : Error(error!);

    private static async Task<IResult> SetAsync(HttpContext context, Authenticator auth, BudgetGuard guard, IBudgetStore store, ILedgerStore ledger, string name)
    {
        if (!auth.IsMaster(context.Request, out var error))
        {
            return Error(error!);
        }

        SetRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<SetRequest>(context.Request.Body, Json, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            return Error(AdminJson.Unreadable(ex, "budget"));
        }

        var scope = Budget.CanonicalScope(body?.Scope ?? "global");
        if (body?.LimitUsd is not { } limit || limit < 0)
        {
            return Error(GatewayError.InvalidRequest("A budget needs a non-negative 'limit_usd'.", "missing_required_parameter", "limit_usd"));
        }

        if (scope is null || (scope != "global" && body.Value is null))
        {
            return Error(GatewayError.InvalidRequest($"'scope' must be one of {string.Join(", ", Budget.Scopes)}, with a 'value' unless global.", "invalid_value", "scope"));
        }

        if (!Enum.TryParse<BudgetPeriod>(body.Period ?? "monthly", ignoreCase: true, out var period))
        {
            return Error(GatewayError.InvalidRequest("'period' must be daily, weekly, monthly or total.", "invalid_value", "period"));
        }

        if (body.Unpriced is not (null or "refuse" or "allow"))
        {
            return Error(GatewayError.InvalidRequest("'unpriced' must be refuse or allow.", "invalid_value", "unpriced"));
        }

        var budget = new Budget(name, scope, scope == "global" ? null : body.Value, period, limit, body.Hard ?? true) { AllowUnpriced = body.Unpriced == "allow" };
        await store.SaveAsync(budget, context.RequestAborted);
        await guard.UpsertAsync(budget, ledger, context.RequestAborted);
        return Results.Json(guard.Snapshot().Where(b => b.Budget.Name == name).Select(View).First(), Json);
    }

    private static IResult Error(GatewayError error) => AdminJson.Error(error);

    private static BudgetView View((Budget Budget, decimal Spent, decimal Reserved, DateTimeOffset? ResetsAt) b) => new(
        b.Budget.Name, b.Budget.Scope, b.Budget.Value, b.Budget.Period.ToString().ToLowerInvariant(), b.Budget.LimitUsd, b.Budget.Hard,
        b.Budget.AllowUnpriced ? "allow" : "refuse", b.Spent, b.Reserved, b.Budget.LimitUsd - b.Spent - b.Reserved, b.ResetsAt);

    private sealed record SetRequest(string? Scope, string? Value, string? Period, decimal? LimitUsd, bool? Hard, string? Unpriced);

    private sealed record BudgetView(
        string Name, string Scope, string? Value, string Period, decimal LimitUsd, bool Hard, string Unpriced, decimal SpentUsd, decimal ReservedUsd, decimal RemainingUsd, DateTimeOffset? ResetsAt);
}
