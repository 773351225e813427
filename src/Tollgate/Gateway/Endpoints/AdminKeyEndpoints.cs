using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Policy.Keys;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>/admin/keys</c>, behind the master key: create (the secret is in this one answer), list, show, rotate (with a
/// grace period for the old secret) and revoke virtual keys. Answers never contain a secret's hash.
/// </summary>
public static class AdminKeyEndpoints
{
    private static readonly JsonSerializerOptions Json = AdminJson.Options;

    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/admin/keys", CreateAsync);
        // The dashboard reads the list too (to show key names, not ids), under /ui/api with the page's credentials.
        foreach (var path in new[] { "/admin/keys", Dashboard.DashboardEndpoints.ApiPrefix + "/keys" })
        {
            app.MapGet(path, (HttpContext context, Authenticator auth, KeyRegistry keys) =>
                Admin(context, auth, () => Results.Json(new { data = keys.List().Select(View) }, Json)));
        }

        app.MapGet("/admin/keys/{id}", (HttpContext context, Authenticator auth, KeyRegistry keys, string id) =>
            Admin(context, auth, () => keys.Get(id) is { } key ? Results.Json(View(key), Json) : NotFound(id)));
        app.MapPost("/admin/keys/{id}/revoke", async (HttpContext context, Authenticator auth, KeyRegistry keys, string id) =>
            await AdminAsync(context, auth, async () => await keys.RevokeAsync(id, context.RequestAborted) is { } key ? Results.Json(View(key), Json) : NotFound(id)));
        app.MapPost("/admin/keys/{id}/rotate", async (HttpContext context, Authenticator auth, KeyRegistry keys, string id) =>
            await AdminAsync(context, auth, async () =>
                GraceSeconds(context.Request.Query["grace_seconds"]) is not { } grace
                    ? Error(GatewayError.InvalidRequest($"'grace_seconds' must be a whole number of seconds from 0 to {MaxGraceSeconds}.", "invalid_value", "grace_seconds"))
                    : await keys.RotateAsync(id, TimeSpan.FromSeconds(grace), context.RequestAborted) is { } rotated
                        ? Results.Json(new CreatedKey(rotated.Secret, View(rotated.Key)), Json, statusCode: StatusCodes.Status201Created)
                        : NotFound(id)));
    }

    /// <summary>A rotated key's old secret works at most 30 days longer.</summary>
    private const int MaxGraceSeconds = 30 * 24 * 3600;

    private static int? GraceSeconds(Microsoft.Extensions.Primitives.StringValues value) =>
        value.Count == 0 || string.IsNullOrEmpty(value[0]) ? 0
        : int.TryParse(value[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds <= MaxGraceSeconds ? seconds
        : null;

    private static async Task<IResult> CreateAsync(HttpContext context, Authenticator auth, KeyRegistry keys, TimeProvider time) =>
        await AdminAsync(context, auth, async () =>
        {
            CreateRequest? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync<CreateRequest>(context.Request.Body, Json, context.RequestAborted);
            }
            catch (JsonException ex)
            {
                return Error(AdminJson.Unreadable(ex, "key request"));
            }

            if (body is null || string.IsNullOrWhiteSpace(body.Name))
            {
                return Error(GatewayError.InvalidRequest("A key needs a 'name'.", "missing_required_parameter", "name"));
            }

            if (body.MaxTokens is <= 0)
            {
                return Error(GatewayError.InvalidRequest("'max_tokens' must be positive.", "invalid_value", "max_tokens"));
            }

            var expires = body.ExpiresAt ?? (body.ExpiresInDays is { } days ? time.GetUtcNow().AddDays(days) : null);
            var (key, secret) = await keys.CreateAsync(
                new KeyRequest(body.Name, body.Models ?? [], body.MaxTokens, body.Tags ?? [], body.LockTags, expires) { RateLimit = new(body.Rpm, body.Tpm), MaxTokensDefault = body.DefaultMaxTokens },
                context.RequestAborted);
            return Results.Json(new CreatedKey(secret, View(key)), Json, statusCode: StatusCodes.Status201Created);
        });

    private static IResult Admin(HttpContext context, Authenticator auth, Func<IResult> action) =>
        auth.IsMaster(context.Request, out var error) ? action() : Error(error!);

    private static async Task<IResult> AdminAsync(HttpContext context, Authenticator auth, Func<Task<IResult>> action) =>
        auth.IsMaster(context.Request, out var error) ? await action() : Error(error!);

    private static IResult NotFound(string id) =>
        Error(new GatewayError(StatusCodes.Status404NotFound, "invalid_request_error", "key_not_found", $"No key with id '{id}'."));

    private static IResult Error(GatewayError error) => AdminJson.Error(error);

    private static KeyView View(VirtualKey key) => new(
        key.Id, key.Name, key.Prefix, key.CreatedAt, key.ExpiresAt, key.RevokedAt, key.AllowedModels, key.MaxTokensCap, key.Tags, key.LockTags,
        key.RateLimit.RequestsPerMinute, key.RateLimit.TokensPerMinute, key.MaxTokensDefault);

    private sealed record CreateRequest(
        string? Name, List<string>? Models, int? MaxTokens, Dictionary<string, string>? Tags, bool LockTags, DateTimeOffset? ExpiresAt, int? ExpiresInDays, int? Rpm, int? Tpm, int? DefaultMaxTokens);

    private sealed record KeyView(
        string Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt,
        IReadOnlyList<string> Models, int? MaxTokens, IReadOnlyDictionary<string, string> Tags, bool LockTags, int? Rpm, int? Tpm, int? DefaultMaxTokens);

    /// <summary>The answer to create and rotate: the secret, shown this once.</summary>
    private sealed record CreatedKey(string Key, KeyView Details);
}
