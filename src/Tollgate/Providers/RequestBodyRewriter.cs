using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Providers;

/// <summary>
/// Writes the client's body for the upstream: every field passes through with its original bytes except <c>model</c>
/// (the alias becomes the deployment's model) and, for OpenAI-format streams, <c>stream_options.include_usage</c>,
/// which is always asked for so that a stream is metered from the provider's own count.
/// </summary>
public static class RequestBodyRewriter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(JsonElement body, string upstreamModel, bool askForStreamUsage, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        var wroteModel = false;
        var wroteStreamOptions = false;
        foreach (var property in body.EnumerateObject())
        {
            if (property.NameEquals("model"u8))
            {
                writer.WriteString("model"u8, upstreamModel);
                wroteModel = true;
            }
            else if (askForStreamUsage && property.NameEquals("stream_options"u8))
            {
                WriteStreamOptions(writer, property.Value);
                wroteStreamOptions = true;
            }
            else
            {
                CopyVerbatim(writer, property);
            }
        }

        if (!wroteModel)
        {
            writer.WriteString("model"u8, upstreamModel);
        }

        if (askForStreamUsage && !wroteStreamOptions)
        {
            WriteStreamOptions(writer, default);
        }

        writer.WriteEndObject();
    }

    /// <summary>True when the client itself asked for the usage chunk of a stream.</summary>
    public static bool ClientWantsStreamUsage(JsonElement body) =>
        body.TryGetProperty("stream_options", out var options)
        && options.ValueKind == JsonValueKind.Object
        && options.TryGetProperty("include_usage", out var include)
        && include.ValueKind == JsonValueKind.True;

    /// <summary>Copies a property with its value's original bytes, so text is not re-escaped on the way through.</summary>
    internal static void CopyVerbatim(Utf8JsonWriter writer, JsonProperty property)
    {
        var rawName = JsonMarshal.GetRawUtf8PropertyName(property);
        if (rawName.Contains((byte)'\\'))
        {
            writer.WritePropertyName(property.Name);
        }
        else
        {
            writer.WritePropertyName(rawName);
        }

        writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(property.Value), skipInputValidation: true);
    }

    private static void WriteStreamOptions(Utf8JsonWriter writer, JsonElement clientOptions)
    {
        writer.WritePropertyName("stream_options"u8);
        writer.WriteStartObject();
        if (clientOptions.ValueKind == JsonValueKind.Object)
        {
            foreach (var option in clientOptions.EnumerateObject())
            {
                if (!option.NameEquals("include_usage"u8))
                {
                    CopyVerbatim(writer, option);
                }
            }
        }

        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
    }
}
