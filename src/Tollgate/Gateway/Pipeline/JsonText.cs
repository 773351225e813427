using System.Text.Json;
using System.Text.Unicode;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Whether every string in a JSON body is text: valid UTF-8, and no escaped lone surrogate (<c>"\ud800"</c>, which no
/// UTF-16 string can hold). System.Text.Json parses both and throws only when such a value is read, deep in whatever
/// stage reads it; the gateway refuses them where the body comes in, and never forwards them.
/// </summary>
public static class JsonText
{
    /// <summary>Null when the body's text is sound; else where it is not (a field path, or a byte offset) and why.</summary>
    /// <param name="json">The body's bytes.</param>
    /// <param name="parsed">The same body, parsed, to name the field that holds the bad text.</param>
    public static (string Where, string Why)? Problem(ReadOnlySpan<byte> json, JsonElement parsed)
    {
        string? why = null;
        if (!Utf8.IsValid(json))
        {
            why = "is not valid UTF-8";
        }
        else if (LoneSurrogateEscape(json) >= 0)
        {
            why = "holds a lone UTF-16 surrogate escape (\\uD800–\\uDFFF without its pair)";
        }

        if (why is null)
        {
            return null;
        }

        return (FirstUnreadable(parsed, "") ?? $"byte {FirstInvalidByte(json)}", why);
    }

    /// <summary>The offset of the first <c>\uXXXX</c> escape that is half a surrogate pair, or -1.</summary>
    internal static int LoneSurrogateEscape(ReadOnlySpan<byte> json)
    {
        // In a document that parsed, a backslash occurs only inside strings, where it always starts an escape.
        var at = json.IndexOf((byte)'\\');
        while (at >= 0 && at + 1 < json.Length)
        {
            if (json[at + 1] != (byte)'u')
            {
                at = Next(json, at + 2);
                continue;
            }

            var unit = Hex(json, at + 2);
            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return at;
            }

            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                var low = at + 6 + 1 < json.Length && json[at + 6] == (byte)'\\' && json[at + 7] == (byte)'u' ? Hex(json, at + 8) : -1;
                if (low is < 0xDC00 or > 0xDFFF)
                {
                    return at;
                }

                at = Next(json, at + 12);
                continue;
            }

            at = Next(json, at + 6);
        }

        return -1;

        static int Next(ReadOnlySpan<byte> json, int from) =>
            from >= json.Length ? -1 : json[from..].IndexOf((byte)'\\') is var i and >= 0 ? from + i : -1;
    }

    private static int Hex(ReadOnlySpan<byte> json, int start)
    {
        if (start + 4 > json.Length)
        {
            return -1;
        }

        var value = 0;
        foreach (var b in json.Slice(start, 4))
        {
            var digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return -1;
            }

            value = (value * 16) + digit;
        }

        return value;
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> json)
    {
        var surrogate = LoneSurrogateEscape(json);
        var offset = 0;
        while (offset < json.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(json[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return surrogate >= 0 ? Math.Min(surrogate, offset) : offset;
            }

            offset += consumed;
        }

        return Math.Max(surrogate, 0);
    }

    /// <summary>The path of the first property name or string value that cannot be read as a string (only runs on a bad body).</summary>
    private static string? FirstUnreadable(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(element.GetString) ? null : path.Length == 0 ? "(body)" : path;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = "";
                    if (!Readable(() => name = property.Name))
                    {
                        return (path.Length == 0 ? "" : path + ".") + "(a property name)";
                    }

                    if (FirstUnreadable(property.Value, path.Length == 0 ? name : path + "." + name) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstUnreadable(item, $"{path}[{index++}]") is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static bool Readable(Func<string?> read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
