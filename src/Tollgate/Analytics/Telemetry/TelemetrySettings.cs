namespace Tollgate.Analytics.Telemetry;

/// <summary>
/// <c>telemetry:</c> — OpenTelemetry export over OTLP (Langfuse, Grafana, Jaeger, Datadog and most collectors ingest
/// it). Off unless <see cref="OtlpEndpoint"/> is set.
/// </summary>
/// <param name="OtlpEndpoint">The collector's base address (<c>http://collector:4318</c> for HTTP, <c>:4317</c> for gRPC).</param>
/// <param name="Protocol"><c>http/protobuf</c> (the default) or <c>grpc</c>.</param>
/// <param name="Headers">Headers sent with each export (<c>Authorization=Basic …</c> for Langfuse), as <c>k=v,k2=v2</c>.</param>
/// <param name="SampleRatio">The share of requests whose spans are exported (metrics count every request).</param>
/// <param name="ServiceName">The <c>service.name</c> the spans and metrics carry.</param>
/// <param name="ExportInterval">How often batches of spans and metrics are sent.</param>
public sealed record TelemetrySettings(Uri? OtlpEndpoint, string Protocol, string? Headers, double SampleRatio, string ServiceName, TimeSpan ExportInterval)
{
    public static TelemetrySettings Off { get; } = new(null, "http/protobuf", null, 1.0, "tollgate", TimeSpan.FromSeconds(5));
}
