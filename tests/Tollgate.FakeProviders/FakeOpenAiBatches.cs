using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Tollgate.FakeProviders;

/// <summary>
/// OpenAI's Files and Batch API as the fake upstream speaks it: <c>POST /v1/files</c> (multipart, <c>purpose</c> and
/// <c>file</c>), <c>GET/DELETE /v1/files/{id}</c>, <c>GET /v1/files/{id}/content</c>, <c>POST /v1/batches</c>,
/// <c>GET /v1/batches/{id}</c>, <c>POST /v1/batches/{id}/cancel</c>. A batch moves on each read — validating,
/// in_progress, then completed after <see cref="ReadsToFinish"/> reads (never while <see cref="Hold"/>) — and its
/// output and error files are written in OpenAI's line shape. Line <c>i</c> (from 0) of a chat batch reports
/// <see cref="UsageOfLine"/>; a <c>custom_id</c> ending <c>-fail</c> is answered 400, one ending <c>-expire</c> is
/// not run (<c>batch_expired</c>).
/// </summary>
public sealed class FakeOpenAiBatches
{
    private readonly ConcurrentDictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Batch> _batches = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _calls = new();
    private int _next;

    /// <summary>Reads of a batch (after it is in progress) before it completes.</summary>
    public int ReadsToFinish { get; set; } = 1;

    /// <summary>While true, batches stay in progress however often they are read.</summary>
    public bool Hold { get; set; }

    /// <summary>Lines a cancelled batch had finished before it was cancelled (they are in its output file).</summary>
    public int FinishedBeforeCancel { get; set; }

    /// <summary>Every call, as "METHOD /path".</summary>
    public IReadOnlyCollection<string> Calls => _calls;

    /// <summary>The content of every file uploaded, by id.</summary>
    public IReadOnlyDictionary<string, string> UploadedFiles => _files.Where(f => f.Value.Purpose == "batch").ToDictionary(f => f.Key, f => Encoding.UTF8.GetString(f.Value.Content));

    /// <summary>The usage line <paramref name="index"/> of a chat batch reports: (prompt, cached, completion) tokens.</summary>
    public static (int Prompt, int Cached, int Completion) UsageOfLine(int index, int? maxTokens)
    {
        var completion = 5 + (index % 11);
        return (10 + (index % 7), index % 4 == 0 ? 4 : 0, maxTokens is { } max ? Math.Min(max, completion) : completion);
    }

    internal void Map(WebApplication app)
    {
        app.MapPost("/v1/files", (Delegate)UploadAsync);
        app.MapGet("/v1/files/{id}", (string id) => Call("GET /v1/files/" + id, () => _files.TryGetValue(id, out var f) ? Results.Text(FileObject(id, f), "application/json") : NotFound(id)));
        app.MapGet("/v1/files/{id}/content", (string id) => Call("GET /v1/files/" + id + "/content", () => _files.TryGetValue(id, out var f) ? Results.Bytes(f.Content, "application/octet-stream") : NotFound(id)));
        app.MapDelete("/v1/files/{id}", (string id) => Call("DELETE /v1/files/" + id, () => _files.TryRemove(id, out _)
            ? Results.Text("{\"id\":" + JsonSerializer.Serialize(id) + ",\"object\":\"file\",\"deleted\":true}", "application/json") : NotFound(id)));
        app.MapPost("/v1/batches", (Delegate)CreateAsync);
        app.MapGet("/v1/batches/{id}", (string id) => Call("GET /v1/batches/" + id, () => _batches.TryGetValue(id, out var b) ? Results.Text(Advance(b), "application/json") : NotFound(id)));
        app.MapPost("/v1/batches/{id}/cancel", (string id) => Call("POST /v1/batches/" + id + "/cancel", () => _batches.TryGetValue(id, out var b) ? Results.Text(Cancel(b), "application/json") : NotFound(id)));
    }

    private IResult Call(string call, Func<IResult> answer)
    {
        _calls.Enqueue(call);
        return answer();
    }

    private static IResult NotFound(string id) => Results.Text(
        "{\"error\":{\"message\":\"No such object: " + id + "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}", "application/json", statusCode: 404);

    private async Task<IResult> UploadAsync(HttpContext context)
    {
        _calls.Enqueue("POST /v1/files");
        var form = await context.Request.ReadFormAsync();
        var file = form.Files.GetFile("file") ?? throw new InvalidOperationException("no file part");
        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer);
        var id = "file-" + Interlocked.Increment(ref _next).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        var stored = new StoredFile(buffer.ToArray(), form["purpose"].ToString(), file.FileName);
        _files[id] = stored;
        return Results.Text(FileObject(id, stored), "application/json");
    }

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        _calls.Enqueue("POST /v1/batches");
        var request = (await FakeServer.ReceiveAsync(context)).Json;
        var fileId = request.GetProperty("input_file_id").GetString()!;
        if (!_files.TryGetValue(fileId, out var input))
        {
            return NotFound(fileId);
        }

        var lines = Encoding.UTF8.GetString(input.Content).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var batch = new Batch("batch_" + Interlocked.Increment(ref _next).ToString("D6", System.Globalization.CultureInfo.InvariantCulture), fileId, request.GetProperty("endpoint").GetString()!, lines)
        {
            Metadata = request.TryGetProperty("metadata", out var metadata) ? metadata.GetRawText() : "null",
        };
        _batches[batch.Id] = batch;
        return Results.Text(BatchObject(batch), "application/json");
    }

    private string Advance(Batch batch)
    {
        lock (batch)
        {
            switch (batch.Status)
            {
                case "validating":
                    batch.Status = "in_progress";
                    break;
                case "in_progress" when !Hold && ++batch.Reads >= ReadsToFinish:
                    Finish(batch, batch.Lines.Length, "completed");
                    break;
                case "cancelling":
                    Finish(batch, Math.Min(FinishedBeforeCancel, batch.Lines.Length), "cancelled");
                    break;
            }

            return BatchObject(batch);
        }
    }

    private string Cancel(Batch batch)
    {
        lock (batch)
        {
            if (batch.Status is "validating" or "in_progress")
            {
                batch.Status = "cancelling";
            }

            return BatchObject(batch);
        }
    }

    /// <summary>Runs the first <paramref name="run"/> lines; the rest are not run (cancelled).</summary>
    private void Finish(Batch batch, int run, string status)
    {
        var output = new StringBuilder();
        var errors = new StringBuilder();
        for (var i = 0; i < batch.Lines.Length; i++)
        {
            using var line = JsonDocument.Parse(batch.Lines[i]);
            var customId = line.RootElement.GetProperty("custom_id").GetString()!;
            var body = line.RootElement.GetProperty("body");
            var lineId = JsonSerializer.Serialize($"batch_req_{batch.Id}_{i}");
            var quotedCustomId = JsonSerializer.Serialize(customId);
            if (i >= run)
            {
                errors.Append("{\"id\":").Append(lineId).Append(",\"custom_id\":").Append(quotedCustomId)
                    .Append(",\"response\":null,\"error\":{\"code\":\"batch_cancelled\",\"message\":\"This request was not executed because the batch was cancelled.\"}}\n");
                batch.Failed++;
            }
            else if (customId.EndsWith("-expire", StringComparison.Ordinal))
            {
                errors.Append("{\"id\":").Append(lineId).Append(",\"custom_id\":").Append(quotedCustomId)
                    .Append(",\"response\":null,\"error\":{\"code\":\"batch_expired\",\"message\":\"This request could not be executed before the completion window expired.\"}}\n");
                batch.Failed++;
            }
            else if (customId.EndsWith("-fail", StringComparison.Ordinal))
            {
                errors.Append("{\"id\":").Append(lineId).Append(",\"custom_id\":").Append(quotedCustomId)
                    .Append(",\"response\":{\"status_code\":400,\"request_id\":\"req_").Append(i).Append("\",\"body\":{\"error\":{\"message\":\"Invalid 'messages': empty.\",\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":null}}},\"error\":null}\n");
                batch.Failed++;
            }
            else
            {
                var maxTokens = body.TryGetProperty("max_tokens", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : (int?)null;
                var (prompt, cached, completion) = UsageOfLine(i, maxTokens);
                output.Append("{\"id\":").Append(lineId).Append(",\"custom_id\":").Append(quotedCustomId)
                    .Append(",\"response\":{\"status_code\":200,\"request_id\":\"req_").Append(i).Append("\",\"body\":{\"id\":\"chatcmpl-").Append(i)
                    .Append("\",\"object\":\"chat.completion\",\"created\":1733000000,\"model\":").Append(JsonSerializer.Serialize(body.GetProperty("model").GetString()))
                    .Append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Xin chào, line ").Append(i).Append("\"},\"finish_reason\":\"stop\"}],")
                    .Append("\"usage\":{\"prompt_tokens\":").Append(prompt).Append(",\"completion_tokens\":").Append(completion).Append(",\"total_tokens\":").Append(prompt + completion)
                    .Append(",\"prompt_tokens_details\":{\"cached_tokens\":").Append(cached).Append("}}}},\"error\":null}\n");
                batch.Completed++;
            }
        }

        batch.Status = status;
        batch.EndedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (output.Length > 0)
        {
            batch.OutputFileId = Store(output.ToString());
        }

        if (errors.Length > 0)
        {
            batch.ErrorFileId = Store(errors.ToString());
        }
    }

    private string Store(string content)
    {
        var id = "file-" + Interlocked.Increment(ref _next).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        _files[id] = new StoredFile(Encoding.UTF8.GetBytes(content), "batch_output", id + ".jsonl");
        return id;
    }

    private static string FileObject(string id, StoredFile file) =>
        "{\"id\":" + JsonSerializer.Serialize(id) + ",\"object\":\"file\",\"bytes\":" + file.Content.Length + ",\"created_at\":1733000000,\"filename\":"
        + JsonSerializer.Serialize(file.Name) + ",\"purpose\":" + JsonSerializer.Serialize(file.Purpose) + ",\"status\":\"processed\"}";

    private static string BatchObject(Batch b)
    {
        static string Id(string? id) => id is null ? "null" : JsonSerializer.Serialize(id);
        static string At(long? at) => at is null ? "null" : at.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "{\"id\":" + JsonSerializer.Serialize(b.Id) + ",\"object\":\"batch\",\"endpoint\":" + JsonSerializer.Serialize(b.Endpoint) + ",\"errors\":null,\"input_file_id\":"
            + JsonSerializer.Serialize(b.InputFileId) + ",\"completion_window\":\"24h\",\"status\":" + JsonSerializer.Serialize(b.Status)
            + ",\"output_file_id\":" + Id(b.OutputFileId) + ",\"error_file_id\":" + Id(b.ErrorFileId) + ",\"created_at\":1733000000"
            + ",\"completed_at\":" + At(b.Status == "completed" ? b.EndedAt : null) + ",\"cancelled_at\":" + At(b.Status == "cancelled" ? b.EndedAt : null)
            + ",\"request_counts\":{\"total\":" + b.Lines.Length + ",\"completed\":" + b.Completed + ",\"failed\":" + b.Failed + "},\"metadata\":" + b.Metadata + "}";
    }

    private sealed record StoredFile(byte[] Content, string Purpose, string Name);

    private sealed class Batch(string id, string inputFileId, string endpoint, string[] lines)
    {
        public string Id { get; } = id;
        public string InputFileId { get; } = inputFileId;
        public string Endpoint { get; } = endpoint;
        public string[] Lines { get; } = lines;
        public string Status { get; set; } = "validating";
        public string Metadata { get; init; } = "null";
        public int Reads { get; set; }
        public int Completed { get; set; }
        public int Failed { get; set; }
        public long? EndedAt { get; set; }
        public string? OutputFileId { get; set; }
        public string? ErrorFileId { get; set; }
    }
}
