namespace Tollgate.Configuration;

/// <summary>
/// Reads a LiteLLM proxy config (<c>model_list</c> / <c>litellm_params</c> / <c>general_settings</c>) as it is.
/// OpenAI and OpenAI-compatible entries are served; keys Tollgate does not use are listed as warnings, and entries
/// for providers Tollgate does not speak yet are skipped with a warning naming them.
/// </summary>
internal static class LiteLlmConfigReader
{
    private static readonly string[] RootKeys = ["model_list", "general_settings", "litellm_settings"];
    private static readonly string[] EntryKeys = ["model_name", "litellm_params", "model_info"];
    private static readonly string[] OffPeakKeys = ["hours_utc", "input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost", "cache_creation_input_token_cost"];
    private static readonly string[] ParamKeys = ["model", "api_base", "base_url", "api_key", "api_version", "timeout", "rpm", "tpm", "input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost", "cache_creation_input_token_cost"];
    private static readonly string[] GeneralKeys = ["master_key"];

    /// <summary>
    /// LiteLLM's logging callbacks (<c>success_callback: ["langfuse"]</c>…) have no Tollgate equivalent by name:
    /// Tollgate exports OpenTelemetry over OTLP, which Langfuse, Datadog and the others ingest — said in a warning
    /// naming what to configure.
    /// </summary>
    private static void WarnAboutCallbacks(YamlSection? settings)
    {
        if (settings is null)
        {
            return;
        }

        string[] callbacks = ["success_callback", "failure_callback", "callbacks"];
        settings.RejectUnknown(callbacks, asWarnings: true);
        foreach (var key in callbacks)
        {
            foreach (var callback in settings.StringList(key))
            {
                var hint = callback.Equals("langfuse", StringComparison.OrdinalIgnoreCase)
                    ? "for Langfuse, 'otlp_endpoint: https://cloud.langfuse.com/api/public/otel' (or your host's /api/public/otel) and 'headers: Authorization=Basic <base64 of public-key:secret-key>'"
                    : "the OTLP endpoint of your collector";
                settings.Diagnostics.Warning(settings.Child(key), $"callback '{callback}' is not run: Tollgate exports OpenTelemetry spans and metrics over OTLP instead — in a tollgate.yaml, set 'telemetry:' with {hint}");
            }
        }
    }

    public static RawConfig Read(YamlSection root, SecretResolver secrets)
    {
        root.RejectUnknown(RootKeys, asWarnings: true);
        var general = root.Section("general_settings");
        general?.RejectUnknown(GeneralKeys, asWarnings: true);
        WarnAboutCallbacks(root.Section("litellm_settings"));

        var models = new List<RawDeployment>();
        foreach (var entry in root.List("model_list"))
        {
            entry.RejectUnknown(EntryKeys, asWarnings: true);
            var alias = entry.String("model_name", required: true);
            var parameters = entry.Section("litellm_params");
            if (parameters is null)
            {
                entry.Diagnostics.Error(entry.Child("litellm_params"), "is required");
                continue;
            }

            parameters.RejectUnknown(ParamKeys, asWarnings: true);
            var model = parameters.String("model", required: true);
            if (model is null)
            {
                continue;
            }

            var slash = model.IndexOf('/', StringComparison.Ordinal);
            var prefix = slash > 0 ? model[..slash] : "openai";
            if (!KnownProviders.TryFromLiteLlmPrefix(prefix, out var provider))
            {
                entry.Diagnostics.Warning(parameters.Child("model"), $"provider '{prefix}' is not supported yet; alias '{alias}' was skipped");
                continue;
            }

            var upstreamModel = slash > 0 ? model[(slash + 1)..] : model;
            var baseUrl = parameters.String("api_base") ?? parameters.String("base_url");
            if (provider == "ollama" && baseUrl is not null && !baseUrl.TrimEnd('/').EndsWith("/v1", StringComparison.Ordinal))
            {
                baseUrl = baseUrl.TrimEnd('/') + "/v1";
            }

            var input = PerMillion(parameters.Decimal("input_cost_per_token"));
            var output = PerMillion(parameters.Decimal("output_cost_per_token"));
            var price = input is null && output is null ? null : new PriceConfig(
                input,
                PerMillion(parameters.Decimal("cache_read_input_token_cost")),
                PerMillion(parameters.Decimal("cache_creation_input_token_cost")),
                output,
                null,
                null);
            var info = entry.Section("model_info");
            info?.RejectUnknown(["off_peak_pricing"], asWarnings: true);
            price = WithOffPeak(price, info?.Section("off_peak_pricing"), model);
            models.Add(new RawDeployment(
                entry.Path,
                alias,
                null,
                provider,
                upstreamModel,
                baseUrl,
                secrets.Resolve(parameters.String("api_key"), parameters.Child("api_key"), parameters.Diagnostics),
                price,
                null,
                parameters.Int("timeout", min: 1),
                null,
                parameters.String("api_version"),
                null,
                parameters.Int("rpm", min: 1),
                parameters.Int("tpm", min: 1)));
        }

        return new RawConfig(
            null,
            secrets.Resolve(general?.String("master_key"), "general_settings.master_key", root.Diagnostics),
            null,
            null,
            null,
            models,
            root.Has("model_list"));
    }

    private static decimal? PerMillion(decimal? perToken) => perToken * 1_000_000m;

    /// <summary>
    /// LiteLLM's <c>model_info.off_peak_pricing</c> (cheaper rates in daily UTC windows, every day) as a price with peak
    /// hours: the off-peak rates become the price's own, its standard rates the peak ones, in the hours outside the
    /// windows. It needs the standard rates in <c>litellm_params</c>; without them it is left out with a warning (the
    /// catalogue's price, with the catalogue's own peak hours, applies).
    /// </summary>
    private static PriceConfig? WithOffPeak(PriceConfig? standard, YamlSection? offPeak, string model)
    {
        if (offPeak is null)
        {
            return standard;
        }

        offPeak.RejectUnknown(OffPeakKeys, asWarnings: true);
        if (standard is not { InputPerMillion: { } input, OutputPerMillion: { } output })
        {
            offPeak.Diagnostics.Warning(offPeak.Path, $"needs input_cost_per_token and output_cost_per_token in litellm_params (the standard rates) and was left out: '{model}' is priced from the catalogue");
            return standard;
        }

        var windows = Metering.PeakHours.ParseWindows(
            offPeak.StringOrList("hours_utc"), text => offPeak.Diagnostics.Error(offPeak.Child("hours_utc"), $"'{text}' is not a window HH:MM-HH:MM (UTC)"));
        if (windows.Count == 0)
        {
            offPeak.Diagnostics.Error(offPeak.Child("hours_utc"), "is required");
            return standard;
        }

        return standard with
        {
            InputPerMillion = PerMillion(offPeak.Decimal("input_cost_per_token")) ?? input,
            OutputPerMillion = PerMillion(offPeak.Decimal("output_cost_per_token")) ?? output,
            CachedInputPerMillion = PerMillion(offPeak.Decimal("cache_read_input_token_cost")) ?? standard.CachedInputPerMillion,
            CacheWritePerMillion = PerMillion(offPeak.Decimal("cache_creation_input_token_cost")) ?? standard.CacheWritePerMillion,
            Peak = new Metering.PeakHours(
                Metering.PeakHours.Complement(windows), WeekdaysOnly: false, input, standard.CachedInputPerMillion ?? input, standard.CacheWritePerMillion ?? input, output),
        };
    }
}
