using System.Buffers;
using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// An embeddings request seen item by item: each input (a string, or a pre-tokenised array of ids) has its own key,
/// so a batch that re-embeds 10,000 documents of which 100 changed sends only those 100 to the provider. The
/// provider's answer for the missing items is merged with the kept vectors into one answer in the client's order,
/// and each new vector is kept with its share of the tokens the provider billed.
/// </summary>
public sealed class EmbeddingItems
{
    private readonly JsonElement[] _items;
    private readonly string[] _keys;
    private readonly CachedAnswer?[] _hits;
    private readonly int[] _missing;
    private readonly bool _fill;

    /// <param name="tenant">Who may receive the kept vectors.</param>
    /// <param name="alias">The alias asked.</param>
    /// <param name="items">The inputs, from <see cref="Split"/>.</param>
    /// <param name="keys">Their keys, from <see cref="Split"/>.</param>
    /// <param name="hits">The kept answer of each (null: missing).</param>
    /// <param name="fill">Whether the new vectors are kept.</param>
    public EmbeddingItems(string tenant, string alias, JsonElement[] items, string[] keys, CachedAnswer?[] hits, bool fill)
    {
        Tenant = tenant;
        Alias = alias;
        _items = items;
        _keys = keys;
        _hits = hits;
        _fill = fill;
        _missing = [.. Enumerable.Range(0, items.Length).Where(i => hits[i] is null)];
    }

    public string Tenant { get; }
    public string Alias { get; }

    /// <summary>How many items the client sent.</summary>
    public int Count => _items.Length;

    /// <summary>The positions of the items the provider must embed.</summary>
    public IReadOnlyList<int> Missing => _missing;

    /// <summary>The tokens the kept vectors were billed for when they were made: what their hits save.</summary>
    public Usage HitUsage => new(_hits.Sum(h => h?.Usage.InputTokens ?? 0), null, null, 0, null);

    /// <summary>
    /// The items of <paramref name="body"/>'s <c>input</c> and their keys; null when it has none to split (no input, an
    /// empty list, or something that is not a string, a list of strings or a list of id arrays).
    /// </summary>
    public static (JsonElement[] Items, string[] Keys)? Split(string tenant, JsonElement body)
    {
        if (!body.TryGetProperty("input", out var input))
        {
            return null;
        }

        JsonElement[] items;
        if (input.ValueKind == JsonValueKind.String
            || (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0 && input.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number)))
        {
            items = [input];
        }
        else if (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0
            && input.EnumerateArray().All(e => e.ValueKind is JsonValueKind.String or JsonValueKind.Array))
        {
            items = [.. input.EnumerateArray()];
        }
        else
        {
            return null;
        }

        var prefix = ResponseCacheKey.EmbeddingRequestPrefix(tenant, body);
        var keys = new string[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            keys[i] = ResponseCacheKey.OfEmbeddingItem(prefix, items[i]);
        }

        return (items, keys);
    }

    /// <summary>The request with only the missing items as its <c>input</c>.</summary>
    public byte[] BodyWithMissing(JsonElement body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in body.EnumerateObject())
            {
                if (property.NameEquals("input"))
                {
                    writer.WriteStartArray("input");
                    foreach (var i in _missing)
                    {
                        _items[i].WriteTo(writer);
                    }

                    writer.WriteEndArray();
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The answer when every item was kept: the vectors in order, and no tokens billed.</summary>
    public byte[] AllKept(string model) => Compose(model, 0, i => _hits[i]!.Body);

    /// <summary>
    /// Merges the provider's answer for the missing items with the kept vectors; <c>Fresh</c> is each new vector to keep
    /// (none when the request may not fill the cache) with its share of <paramref name="billedTokens"/> (shares by the
    /// items' lengths, adding up to what the provider billed). Body null when the answer does not hold one vector per
    /// missing item.
    /// </summary>
    public (byte[]? Body, IReadOnlyList<CachedAnswer> Fresh) Merge(ReadOnlyMemory<byte> reply, long? billedTokens, string deployment, string upstreamModel, string requestId, DateTimeOffset now)
    {
        using var document = Parse(reply);
        if (document is null || !document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() != _missing.Length)
        {
            return (null, []);
        }

        var fresh = new byte[_items.Length][];
        var position = 0;
        foreach (var entry in data.EnumerateArray())
        {
            var index = entry.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out var n) && n >= 0 && n < _missing.Length ? n : position;
            if (!entry.TryGetProperty("embedding", out var vector))
            {
                return (null, []);
            }

            fresh[_missing[index]] = System.Text.Encoding.UTF8.GetBytes(vector.GetRawText());
            position++;
        }

        if (_missing.Any(m => fresh[m] is null))
        {
            return (null, []);
        }

        var model = document.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : upstreamModel;
        var kept = new List<CachedAnswer>(_fill ? _missing.Length : 0);
        if (_fill)
        {
            var shares = Shares(billedTokens ?? 0);
            for (var k = 0; k < _missing.Length; k++)
            {
                var item = _missing[k];
                kept.Add(new CachedAnswer(_keys[item], Tenant, Alias, deployment, new Usage(shares[k], null, null, 0, null), requestId, now, "application/json", [], fresh[item]));
            }
        }

        return (Compose(model, billedTokens ?? 0, i => _hits[i]?.Body ?? fresh[i]), kept);
    }

    /// <summary>
    /// The billed tokens split over the missing items in proportion to their length (UTF-8 bytes of a text, ids of a
    /// pre-tokenised input; the last takes the remainder, so the shares add up to the bill). Lengths, not token
    /// counts: counting a batch of megabyte inputs a second time would cost more CPU than the shares are worth.
    /// </summary>
    private long[] Shares(long billed)
    {
        if (_missing.Length == 1)
        {
            return [billed];
        }

        var counts = _missing.Select(i => _items[i].ValueKind == JsonValueKind.String
            ? System.Text.Encoding.UTF8.GetByteCount(_items[i].GetString()!)
            : (long)_items[i].GetArrayLength()).ToArray();
        var total = counts.Sum();
        var shares = new long[counts.Length];
        long given = 0;
        for (var k = 0; k < counts.Length; k++)
        {
            shares[k] = k == counts.Length - 1 ? billed - given
                : total > 0 ? billed * counts[k] / total
                : billed / counts.Length;
            given += shares[k];
        }

        return shares;
    }

    private byte[] Compose(string model, long billedTokens, Func<int, byte[]> vector) =>
        Providers.OpenAiWire.EmbeddingList(_items.Length, (writer, i) => writer.WriteRawValue(vector(i), skipInputValidation: true), model, billedTokens).ToArray();

    private static JsonDocument? Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
