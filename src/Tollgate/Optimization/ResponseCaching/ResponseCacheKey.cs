using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Tollgate.Providers;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// What identifies an answer: SHA-256 over the tenant, the endpoint and the request body in a canonical form (object
/// properties in ordinal order at every depth, so two clients that order fields differently share an entry). Every
/// field is part of it — model, messages, tools, tool_choice, response_format, temperature, top_p, seed, n,
/// max_tokens, stream and stream_options, and any field added later — except the ones that only say who is asking
/// (<c>user</c>, <c>metadata</c>), which attribution reads and the answer does not depend on.
/// </summary>
public static class ResponseCacheKey
{
    private static readonly string[] AttributionOnly = ["user", "metadata"];

    public static string Of(string tenant, GatewayEndpoint endpoint, JsonElement body) =>
        Hash("v1", tenant, endpoint, writer => WriteCanonical(writer, body, root: true, AttributionOnly));

    /// <summary>
    /// What a semantic lookup must match exactly: tenant, endpoint and the whole request except the text of its last
    /// message (the system prompt, earlier turns, tools, model and parameters all count).
    /// </summary>
    public static string OfContext(string tenant, GatewayEndpoint endpoint, JsonElement body) =>
        Hash("v1-context", tenant, endpoint, writer =>
        {
            WriteCanonical(writer, body, root: true, [.. AttributionOnly, "messages"]);
            if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
            {
                var count = messages.GetArrayLength();
                var index = 0;
                writer.WriteStartArray();
                foreach (var message in messages.EnumerateArray())
                {
                    WriteCanonical(writer, message, root: ++index == count, ["content"]);
                }

                writer.WriteEndArray();
            }
        });

    /// <summary>SHA-256 (hex) of a JSON array: the key's version, the tenant, the endpoint, then what <paramref name="write"/> adds.</summary>
    private static string Hash(string version, string tenant, GatewayEndpoint endpoint, Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var (buffer, writer) = t_scratch ??= (new ArrayBufferWriter<byte>(1024), new Utf8JsonWriter(Stream.Null));
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartArray();
        writer.WriteStringValue(version);
        writer.WriteStringValue(tenant);
        writer.WriteStringValue(endpoint.ToString());
        write(writer);
        writer.WriteEndArray();
        writer.Flush();

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer.WrittenSpan, hash);
        if (buffer.Capacity > MaxKeptScratch)
        {
            t_scratch = null; // a huge body's buffer is not kept for the thread's next request
        }

        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The canonical form's buffer and writer, kept per thread (a key is written without awaiting).</summary>
    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? t_scratch;

    private const int MaxKeptScratch = 256 * 1024;

    /// <summary>
    /// The key of one item of an embeddings request: the request's other fields (model, dimensions, encoding_format…)
    /// in canonical form, written once and shared by its items, then the item.
    /// </summary>
    public static string OfEmbeddingItem(ReadOnlySpan<byte> requestPrefix, JsonElement item)
    {
        var buffer = new ArrayBufferWriter<byte>(requestPrefix.Length + 256);
        buffer.Write(requestPrefix);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            item.WriteTo(writer);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>What every item key of an embeddings request starts with: tenant and request without its input.</summary>
    public static byte[] EmbeddingRequestPrefix(string tenant, JsonElement body)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStringValue("v1-item");
            writer.WriteStringValue(tenant);
            WriteCanonical(writer, body, root: true, [.. AttributionOnly, "input"]);
            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element, bool root, string[] skipAtRoot)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                var count = 0;
                foreach (var _ in element.EnumerateObject())
                {
                    count++;
                }

                // Each name read once (JsonProperty.Name makes a new string on every read) and sorted: on the stack for
                // the usual handful of properties, in a pooled array past that.
                var small = default(EightProperties);
                var rented = count > EightProperties.Length ? ArrayPool<(string Name, JsonElement Value)>.Shared.Rent(count) : null;
                try
                {
                    var properties = rented is null ? (Span<(string Name, JsonElement Value)>)small : rented;
                    var kept = 0;
                    foreach (var property in element.EnumerateObject())
                    {
                        var name = property.Name;
                        if (!(root && skipAtRoot.Contains(name)))
                        {
                            properties[kept++] = (name, property.Value);
                        }
                    }

                    var span = properties[..kept];
                    span.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                    foreach (var (name, value) in span)
                    {
                        writer.WritePropertyName(name);
                        WriteCanonical(writer, value, root: false, skipAtRoot);
                    }
                }
                finally
                {
                    if (rented is not null)
                    {
                        ArrayPool<(string Name, JsonElement Value)>.Shared.Return(rented, clearArray: true);
                    }
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteCanonical(writer, item, root: false, skipAtRoot);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}

/// <summary>Room for an object's properties on the stack while they are sorted.</summary>
[System.Runtime.CompilerServices.InlineArray(Length)]
internal struct EightProperties
{
    public const int Length = 8;

    private (string Name, JsonElement Value) _first;
}
