using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.Tests.Support;

/// <summary>
/// An OTLP/HTTP collector on 127.0.0.1 that keeps the spans (name and attributes) and the metric names posted to it,
/// decoding the protobuf messages by their field numbers (opentelemetry-proto: ExportTraceServiceRequest →
/// ResourceSpans.scope_spans(2) → ScopeSpans.spans(2) → Span.name(5), Span.attributes(9) → KeyValue{key(1),
/// value(2) AnyValue{string(1), bool(2), int(3), double(4)}}; metrics: resource_metrics(1) → scope_metrics(2) →
/// metrics(2) → Metric.name(1)).
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Name, IReadOnlyDictionary<string, object> Attributes)> Spans { get; } = new();

    public ConcurrentDictionary<string, byte> MetricNames { get; } = new(StringComparer.Ordinal);

    public Uri BaseUrl => new(_app.Urls.First());

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            foreach (var resourceSpans in Fields(await BodyAsync(context), 1))
            {
                foreach (var scopeSpans in Fields(resourceSpans, 2))
                {
                    foreach (var span in Fields(scopeSpans, 2))
                    {
                        var name = Encoding.UTF8.GetString(Fields(span, 5).FirstOrDefault().Span);
                        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
                        foreach (var pair in Fields(span, 9))
                        {
                            var key = Encoding.UTF8.GetString(Fields(pair, 1).First().Span);
                            attributes[key] = Value(Fields(pair, 2).First());
                        }

                        receiver.Spans.Enqueue((name, attributes));
                    }
                }
            }

            return Results.Ok();
        });
        app.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            foreach (var resourceMetrics in Fields(await BodyAsync(context), 1))
            {
                foreach (var scopeMetrics in Fields(resourceMetrics, 2))
                {
                    foreach (var metric in Fields(scopeMetrics, 2))
                    {
                        receiver.MetricNames.TryAdd(Encoding.UTF8.GetString(Fields(metric, 1).First().Span), 0);
                    }
                }
            }

            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task<ReadOnlyMemory<byte>> BodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static object Value(ReadOnlyMemory<byte> anyValue)
    {
        foreach (var (field, wire, bytes, number) in All(anyValue))
        {
            return (field, wire) switch
            {
                (1, 2) => Encoding.UTF8.GetString(bytes.Span),
                (2, 0) => number != 0,
                (3, 0) => (long)number,
                (4, 1) => BitConverter.Int64BitsToDouble((long)number),
                _ => bytes.ToArray(),
            };
        }

        return string.Empty;
    }

    /// <summary>The length-delimited fields with this number.</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> Fields(ReadOnlyMemory<byte> message, int number) =>
        All(message).Where(f => f.Field == number && f.Wire == 2).Select(f => f.Bytes);

    private static List<(int Field, int Wire, ReadOnlyMemory<byte> Bytes, ulong Number)> All(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, int, ReadOnlyMemory<byte>, ulong)>();
        var at = 0;
        var bytes = message.ToArray();
        ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }

        while (at < bytes.Length)
        {
            var tag = Varint();
            var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wire)
            {
                case 0:
                    fields.Add((field, wire, ReadOnlyMemory<byte>.Empty, Varint()));
                    break;
                case 1:
                    fields.Add((field, wire, message.Slice(at, 8), BitConverter.ToUInt64(bytes, at)));
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint();
                    fields.Add((field, wire, message.Slice(at, length), 0));
                    at += length;
                    break;
                case 5:
                    fields.Add((field, wire, message.Slice(at, 4), BitConverter.ToUInt32(bytes, at)));
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire}");
            }
        }

        return fields;
    }
}
