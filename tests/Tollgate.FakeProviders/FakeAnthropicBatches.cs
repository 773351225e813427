using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Tollgate.FakeProviders;

/// <summary>
/// Anthropic's Message Batches API as the fake upstream speaks it: <c>POST /v1/messages/batches</c> (inline
/// <c>requests</c>), <c>GET …/{id}</c>, <c>POST …/{id}/cancel</c>, <c>GET …/{id}/results</c> (JSON lines),
/// <c>DELETE …/{id}</c>. A batch ends after <see cref="ReadsToFinish"/> reads; request <c>i</c> succeeds with
/// <see cref="UsageOfRequest"/>, unless its custom_id ends <c>-error</c> (errored) or <c>-expire</c> (expired).
/// </summary>
public sealed class FakeAnthropicBatches
{
    private readonly ConcurrentDictionary<string, Batch> _batches = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _calls = new();
    private int _next;

    public int ReadsToFinish { get; set; } = 1;

    /// <summary>Every call, as "METHOD /path".</summary>
    public IReadOnlyCollection<string> Calls => _calls;

    /// <summary>The body of every batch created, by id.</summary>
    public IReadOnlyDictionary<string, string> Created => _batches.ToDictionary(b => b.Key, b => b.Value.Body);

    /// <summary>(input, cache read, cache write, output) tokens request <paramref name="index"/> reports; Anthropic's input excludes the cache.</summary>
    public static (int Input, int CacheRead, int CacheWrite, int Output) UsageOfRequest(int index) => (20 + (index % 5), index % 3 == 0 ? 100 : 0, index % 7 == 0 ? 50 : 0, 8 + (index % 9));

    internal void Map(WebApplication app)
    {
        app.MapPost("/v1/messages/batches", (Delegate)CreateAsync);
        app.MapGet("/v1/messages/batches/{id}", (string id) => Call("GET " + id, () => _batches.TryGetValue(id, out var b) ? Json(Advance(b)) : NotFound(id)));
        app.MapPost("/v1/messages/batches/{id}/cancel", (string id) => Call("POST " + id + "/cancel", () => _batches.TryGetValue(id, out var b) ? Json(Cancel(b)) : NotFound(id)));
        app.MapGet("/v1/messages/batches/{id}/results", (string id) => Call("GET " + id + "/results", () =>
            _batches.TryGetValue(id, out var b) && b.Results is { } results ? Results.Text(results, "application/binary") : NotFound(id)));
        app.MapDelete("/v1/messages/batches/{id}", (string id) => Call("DELETE " + id, () =>
            _batches.TryRemove(id, out _) ? Json("{\"id\":" + JsonSerializer.Serialize(id) + ",\"type\":\"message_batch_deleted\"}") : NotFound(id)));
    }

    private IResult Call(string call, Func<IResult> answer)
    {
        _calls.Enqueue(call);
        return answer();
    }

    private static IResult Json(string body) => Results.Text(body, "application/json");

    private static IResult NotFound(string id) => Results.Text(
        "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"No batch " + id + "\"}}", "application/json", statusCode: 404);

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        _calls.Enqueue("POST create");
        var received = await FakeServer.ReceiveAsync(context);
        var requests = received.Json.GetProperty("requests").EnumerateArray().Select(r => (r.GetProperty("custom_id").GetString()!, r.GetProperty("params").GetProperty("model").GetString()!)).ToArray();
        var batch = new Batch("msgbatch_" + Interlocked.Increment(ref _next).ToString("D6", System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(received.Body), requests);
        _batches[batch.Id] = batch;
        return Json(Object(batch));
    }

    private string Advance(Batch batch)
    {
        lock (batch)
        {
            if (batch.Status == "canceling" || (batch.Status == "in_progress" && ++batch.Reads >= ReadsToFinish))
            {
                Finish(batch, canceled: batch.Status == "canceling");
            }

            return Object(batch);
        }
    }

    private string Cancel(Batch batch)
    {
        lock (batch)
        {
            if (batch.Status == "in_progress")
            {
                batch.Status = "canceling";
            }

            return Object(batch);
        }
    }

    private static void Finish(Batch batch, bool canceled)
    {
        var results = new StringBuilder();
        for (var i = 0; i < batch.Requests.Length; i++)
        {
            var (customId, model) = batch.Requests[i];
            var id = JsonSerializer.Serialize(customId);
            if (canceled)
            {
                results.Append("{\"custom_id\":").Append(id).Append(",\"result\":{\"type\":\"canceled\"}}\n");
                batch.Canceled++;
            }
            else if (customId.EndsWith("-expire", StringComparison.Ordinal))
            {
                results.Append("{\"custom_id\":").Append(id).Append(",\"result\":{\"type\":\"expired\"}}\n");
                batch.Expired++;
            }
            else if (customId.EndsWith("-error", StringComparison.Ordinal))
            {
                results.Append("{\"custom_id\":").Append(id).Append(",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"max_tokens: too large\"}}}}\n");
                batch.Errored++;
            }
            else
            {
                var (input, read, write, output) = UsageOfRequest(i);
                results.Append("{\"custom_id\":").Append(id).Append(",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":\"msg_").Append(i)
                    .Append("\",\"type\":\"message\",\"role\":\"assistant\",\"model\":").Append(JsonSerializer.Serialize(model))
                    .Append(",\"content\":[{\"type\":\"text\",\"text\":\"Xin chào ").Append(i).Append("\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,")
                    .Append("\"usage\":{\"input_tokens\":").Append(input).Append(",\"cache_creation_input_tokens\":").Append(write)
                    .Append(",\"cache_read_input_tokens\":").Append(read).Append(",\"output_tokens\":").Append(output).Append("}}}}\n");
                batch.Succeeded++;
            }
        }

        batch.Results = results.ToString();
        batch.Status = "ended";
        batch.EndedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Object(Batch b) =>
        "{\"id\":" + JsonSerializer.Serialize(b.Id) + ",\"type\":\"message_batch\",\"processing_status\":" + JsonSerializer.Serialize(b.Status)
        + ",\"request_counts\":{\"processing\":" + (b.Status == "ended" ? 0 : b.Requests.Length) + ",\"succeeded\":" + b.Succeeded + ",\"errored\":" + b.Errored
        + ",\"canceled\":" + b.Canceled + ",\"expired\":" + b.Expired + "},\"ended_at\":" + (b.EndedAt is null ? "null" : JsonSerializer.Serialize(b.EndedAt))
        + ",\"created_at\":\"2026-12-07T00:00:00Z\",\"expires_at\":\"2026-12-08T00:00:00Z\",\"cancel_initiated_at\":null,\"results_url\":"
        + (b.Results is null ? "null" : JsonSerializer.Serialize("/v1/messages/batches/" + b.Id + "/results")) + "}";

    private sealed class Batch(string id, string body, (string CustomId, string Model)[] requests)
    {
        public string Id { get; } = id;
        public string Body { get; } = body;
        public (string CustomId, string Model)[] Requests { get; } = requests;
        public string Status { get; set; } = "in_progress";
        public int Reads { get; set; }
        public int Succeeded { get; set; }
        public int Errored { get; set; }
        public int Canceled { get; set; }
        public int Expired { get; set; }
        public string? EndedAt { get; set; }
        public string? Results { get; set; }
    }
}
