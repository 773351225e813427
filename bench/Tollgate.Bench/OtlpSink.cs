using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.Bench;

/// <summary>
/// An OTLP/HTTP collector that accepts and drops every export, counting what it was sent: the far end of <c>--otlp</c>.
/// It runs as a process of its own (this bench started with <c>--otlp-sink</c>), as a collector does: in the gateway's
/// process its reads and buffers would be garbage the gateway's collector pays for.
/// </summary>
internal sealed class OtlpSink : IAsyncDisposable
{
    private readonly Process _process;

    private OtlpSink(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>Exports received and their bytes, as the sink reports them when it is stopped.</summary>
    public (long Exports, long Bytes) Received { get; private set; }

    public static async Task<OtlpSink> StartAsync()
    {
        var process = BenchChild.Start("--otlp-sink");
        var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the OTLP sink did not start");
        return new OtlpSink(process, new Uri(line));
    }

    /// <summary>The sink's own process: listens on a free port, prints its address, and when its input closes prints what it received.</summary>
    public static async Task ServeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        long exports = 0;
        long bytes = 0;
        app.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            var buffer = new byte[16 * 1024];
            long length = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                length += read;
            }

            Interlocked.Increment(ref exports);
            Interlocked.Add(ref bytes, length);
            return Results.Ok();
        });
        await app.StartAsync();
        Console.WriteLine(app.Urls.First());
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Interlocked.Read(ref exports)} {Interlocked.Read(ref bytes)}"));
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        var counts = (await _process.StandardOutput.ReadLineAsync())?.Split(' ');
        if (counts is [var exports, var bytes])
        {
            Received = (long.Parse(exports, CultureInfo.InvariantCulture), long.Parse(bytes, CultureInfo.InvariantCulture));
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
