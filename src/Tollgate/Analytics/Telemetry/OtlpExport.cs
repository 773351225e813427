using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Tollgate.Analytics.Telemetry;

/// <summary>
/// The OpenTelemetry SDK's tracer and meter providers, exporting <see cref="GenAiTelemetry"/>'s spans and metrics over
/// OTLP in batches on the SDK's own thread; disposed (flushing what is left) when the gateway stops.
/// </summary>
public sealed class OtlpExport : IDisposable
{
    private readonly TracerProvider _tracer;
    private readonly MeterProvider _meter;

    public OtlpExport(TelemetrySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var endpoint = settings.OtlpEndpoint ?? throw new ArgumentException("telemetry.otlp_endpoint is not set", nameof(settings));
        var grpc = settings.Protocol == "grpc";
        var resource = ResourceBuilder.CreateDefault().AddService(settings.ServiceName);
        var interval = (int)settings.ExportInterval.TotalMilliseconds;
        void Configure(OtlpExporterOptions options, string signal)
        {
            options.Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;

            // Given explicitly, an HTTP endpoint is used as it is: the signal's path is added to the collector's base.
            options.Endpoint = grpc ? endpoint : new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/" + signal);
            options.Headers = settings.Headers;
        }

        _tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(GenAiTelemetry.SourceName)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(settings.SampleRatio)))
            .AddOtlpExporter(options =>
            {
                Configure(options, "traces");
                options.BatchExportProcessorOptions.ScheduledDelayMilliseconds = interval;
            })
            .Build();
        _meter = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(GenAiTelemetry.SourceName)
            .AddOtlpExporter((options, reader) =>
            {
                Configure(options, "metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
            })
            .Build();
    }

    public void Dispose()
    {
        _tracer.Dispose();
        _meter.Dispose();
    }
}
