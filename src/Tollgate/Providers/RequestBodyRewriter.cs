using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Providers;

/// <summary>
/// Writes the client's body for the upstream: the client's bytes pass through as they came — field order, spacing,
/// escapes and all — except the value of <c>model</c> (the alias becomes the deployment's model) and, for
/// OpenAI-format streams, <c>stream_options.include_usage</c>, which is always asked for so that a stream is metered
/// from the provider's own count. The body is copied in spans around those values, not re-serialised.
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
        ArgumentNullException.ThrowIfNull(output);
        var raw = JsonMarshal.GetRawUtf8Value(body);
        var copied = 0;
        var wroteModel = false;
        var wroteStreamOptions = false;
        var empty = true;
        foreach (var property in body.EnumerateObject())
        {
            empty = false;
            var isModel = property.NameEquals("model"u8);
            var isStreamOptions = !isModel && askForStreamUsage && property.NameEquals("stream_options"u8);
            if (!isModel && !isStreamOptions)
            {
                continue;
            }

            // The value's place inside the body: both spans point into the document's one buffer.
            var value = JsonMarshal.GetRawUtf8Value(property.Value);
            var start = (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(raw), ref MemoryMarshal.GetReference(value));
            output.Write(raw[copied..start]);
            if (isModel)
            {
                WriteModel(output, upstreamModel);
                wroteModel = true;
            }
            else
            {
                WriteStreamOptions(output, property.Value);
                wroteStreamOptions = true;
            }

            copied = start + value.Length;
        }

        // What the client did not send goes before the closing brace.
        var end = raw.Length - 1;
        output.Write(raw[copied..end]);
        if (!wroteModel)
        {
            output.Write(empty ? "\"model\":"u8 : ",\"model\":"u8);
            WriteModel(output, upstreamModel);
            empty = false;
        }

        if (askForStreamUsage && !wroteStreamOptions)
        {
            output.Write(empty ? "\"stream_options\":"u8 : ",\"stream_options\":"u8);
            WriteStreamOptions(output, default);
        }

        output.Write(raw[end..]);
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

    /// <summary>The model as a JSON string: a plain ASCII name is copied between quotes, anything else is escaped by the writer.</summary>
    private static void WriteModel(IBufferWriter<byte> output, string model)
    {
        if (!model.AsSpan().ContainsAnyExceptInRange(' ', '~') && !model.AsSpan().ContainsAny('"', '\\'))
        {
            var span = output.GetSpan(model.Length + 2);
            span[0] = (byte)'"';
            Encoding.ASCII.GetBytes(model, span[1..]);
            span[model.Length + 1] = (byte)'"';
            output.Advance(model.Length + 2);
            return;
        }

        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStringValue(model);
    }

    /// <summary>The client's stream options (each with its original bytes), with <c>include_usage</c> set to true.</summary>
    private static void WriteStreamOptions(IBufferWriter<byte> output, JsonElement clientOptions)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
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
