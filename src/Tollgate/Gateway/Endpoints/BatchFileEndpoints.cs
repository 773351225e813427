using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Tollgate.Batches;
using Tollgate.Configuration;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Policy;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>/v1/files</c> for the Batch API: an upload (<c>purpose: batch</c>) is read line by line (<see cref="BatchInput"/>),
/// each line's <c>model</c> made the deployment's model and put through the request policy, its worst case at batch
/// prices kept for the batch that will run it, and sent to the deployment the alias names. A file is then read,
/// downloaded or deleted only by the key that uploaded it (or the master key); a batch's output files by the key that
/// created the batch.
/// </summary>
public static class BatchFileEndpoints
{
    /// <summary>Room for the multipart framing and the purpose field around the file itself.</summary>
    private const long FormOverheadBytes = 64 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        foreach (var prefix in new[] { "/v1", string.Empty })
        {
            app.MapPost(prefix + "/files", UploadAsync);
            app.MapGet(prefix + "/files/{id}", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Get, string.Empty, "files.retrieve"));
            app.MapGet(prefix + "/files/{id}/content", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Get, "/content", "files.content"));
            app.MapDelete(prefix + "/files/{id}", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Delete, string.Empty, "files.delete"));
        }
    }

    private static async Task UploadAsync(HttpContext context)
    {
        var call = await UnbilledCall.BeginAsync(context);
        if (call is null)
        {
            return;
        }

        var services = context.RequestServices;
        var settings = services.GetRequiredService<BatchSettings>();
        var (content, fileName, formError) = await ReadFormAsync(context, settings.MaxFileBytes);
        if (formError is not null)
        {
            await call.FailAsync(formError);
            return;
        }

        var (input, inputError) = BatchInput.Read(content);
        if (input is null)
        {
            await call.FailAsync(inputError!);
            return;
        }

        using (input)
        {
            if (await BatchRequests.PrepareAsync(call, services, input,
                d => d.Adapter is OpenAiCompatibleAdapter && d.Adapter.Supports(input.Endpoint), "batches run on OpenAI-compatible deployments") is not { } prepared)
            {
                return;
            }

            var (deployment, file, bound) = prepared;
            using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
            form.Add(part, "file", fileName);
            var adapter = (OpenAiCompatibleAdapter)deployment.Adapter;
            var result = await adapter.RelayAccountCallAsync(deployment.Config, HttpMethod.Post, "files", string.Empty, form, context.RequestAborted);
            if (result.Value is { IsSuccess: true } reply && BatchRequests.IdOf(reply.Body) is { } id)
            {
                await services.GetRequiredService<IBatchStore>().SaveFileAsync(
                    new BatchFile(id, deployment.Name, call.Owner, call.StartedAt) { Alias = deployment.Config.Alias, Url = input.Url, Bound = bound }, context.RequestAborted);
            }

            await call.FinishAsync(deployment, "files.upload", result);
        }
    }

    /// <summary>The file part of a multipart upload whose purpose is <c>batch</c>, within the size limit.</summary>
    private static async Task<(byte[] Content, string FileName, GatewayError? Error)> ReadFormAsync(HttpContext context, long maxFileBytes)
    {
        if (!context.Request.HasFormContentType || context.Request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) != true)
        {
            return ([], string.Empty, GatewayError.InvalidRequest("Upload a file as multipart/form-data with the fields 'purpose' and 'file'.", "invalid_content_type"));
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxFileBytes + FormOverheadBytes;
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = maxFileBytes, ValueCountLimit = 16, ValueLengthLimit = 1024 }, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ([], string.Empty, GatewayError.BodyTooLarge(maxFileBytes));
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException or IOException)
        {
            return ([], string.Empty, ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)
                ? GatewayError.BodyTooLarge(maxFileBytes)
                : GatewayError.InvalidRequest("The upload is not a readable multipart form: " + ex.Message, "invalid_form"));
        }

        if (form["purpose"].ToString() != "batch")
        {
            return ([], string.Empty, GatewayError.InvalidRequest(
                "This gateway takes files for the Batch API only: set 'purpose' to \"batch\".", "unsupported_purpose", "purpose"));
        }

        if (form.Files.GetFile("file") is not { } upload)
        {
            return ([], string.Empty, GatewayError.InvalidRequest("The form has no 'file' part.", "missing_file", "file"));
        }

        if (upload.Length > maxFileBytes)
        {
            return ([], string.Empty, GatewayError.BodyTooLarge(maxFileBytes));
        }

        await using var stream = upload.OpenReadStream();
        var bytes = await Providers.WholeBody.ReadAsync(stream, upload.Length, maxFileBytes, context.RequestAborted);
        var name = string.IsNullOrWhiteSpace(upload.FileName) || upload.FileName.Length > 255 ? "batch.jsonl" : upload.FileName;
        return (bytes, name, null);
    }

    private static async Task RelayAsync(HttpContext context, string id, HttpMethod method, string suffix, string endpoint)
    {
        var call = await UnbilledCall.BeginOnAsync(context, id, "file");
        if (call is null)
        {
            return;
        }

        var services = context.RequestServices;
        var store = services.GetRequiredService<IBatchStore>();
        var file = await store.FindFileAsync(id, context.RequestAborted);
        var deployment = call.DeploymentOwnedBy(file?.Caller, file?.Deployment);
        if (deployment?.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            await call.FailAsync(new GatewayError(StatusCodes.Status404NotFound, "invalid_request_error", "file_not_found",
                $"No file with id '{id}' was made through this gateway for this key."));
            return;
        }

        var result = await adapter.RelayAccountCallAsync(deployment.Config, method, "files/" + id + suffix, string.Empty, null, context.RequestAborted);
        if (method == HttpMethod.Delete && result.Value is { IsSuccess: true })
        {
            await store.DeleteFileAsync(id, context.RequestAborted);
        }

        await call.FinishAsync(deployment, endpoint, result);
    }
}
