using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Runtime.CompilerServices;
using Tollgate.Metering.Tokenization;
using Tollgate.Optimization.SemanticCaching;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// What the advisor (<c>tollgate advise</c>) needs of a request beyond its usage, kept on its record: the output limit it
/// was granted, a hash of its stable prefix — system or developer instructions and tool definitions, what a provider's
/// prompt cache would hold — with the prefix's length in tokens, and a hash of the whole body as sent (equal hashes are
/// exact duplicates). Hashes only, never text; <c>storage.record_prompt_hashes: false</c> turns them off.
/// </summary>
public sealed record RequestFingerprint(long? MaxOutputTokens, string? PrefixHash, long? PrefixTokens, string? RequestHash, string? QuestionHash = null)
{
    public static RequestFingerprint None { get; } = new(null, null, null, null);

    /// <summary>The token lengths of prefixes seen, by hash: a prefix that repeats (the case worth finding) is counted once.</summary>
    private static readonly ConcurrentDictionary<string, long> PrefixLengths = new(StringComparer.Ordinal);
    private const int MaxRemembered = 4096;

    public static RequestFingerprint Of(JsonElement body, string model, bool hashes)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        long? limit = null;
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens", "max_output_tokens"])
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var granted) && granted > 0)
            {
                limit = granted;
                break;
            }
        }

        if (!hashes)
        {
            return new RequestFingerprint(limit, null, null, null);
        }

        var requestHash = Hash(JsonMarshal.GetRawUtf8Value(body));
        var questionHash = QuestionHashOf(body);
        var prefix = Prefix(body);
        if (prefix.Count == 0)
        {
            return new RequestFingerprint(limit, null, null, requestHash, questionHash);
        }

        // The parts as sent, each followed by a zero byte, hashed in one pass over a rented buffer.
        var length = prefix.Sum(part => JsonMarshal.GetRawUtf8Value(part).Length + 1);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        string prefixHash;
        try
        {
            var written = 0;
            foreach (var part in prefix)
            {
                var raw = JsonMarshal.GetRawUtf8Value(part);
                raw.CopyTo(buffer.AsSpan(written));
                written += raw.Length;
                buffer[written++] = 0;
            }

            prefixHash = Hash(buffer.AsSpan(0, written));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        if (!PrefixLengths.TryGetValue(prefixHash, out var tokens))
        {
            tokens = CountTokens(prefix, model);
            if (PrefixLengths.Count >= MaxRemembered)
            {
                PrefixLengths.Clear();
            }

            PrefixLengths[prefixHash] = tokens;
        }

        return new RequestFingerprint(limit, prefixHash, tokens, requestHash, questionHash);
    }

    /// <summary>
    /// The body as sent but for its last user message's content, which is replaced by that question as the semantic
    /// cache normalises it (<see cref="QueryText"/>): two requests that differ only in how the question is written
    /// (case, punctuation, number formats, filler words) share it. Null when the last message is not a plain question.
    /// </summary>
    private static string? QuestionHashOf(JsonElement body)
    {
        string? text;
        try
        {
            text = SemanticQuery.LastUserText(body);
        }
        catch (InvalidOperationException)
        {
            // A string that is not text (a lone surrogate escape): bodies are refused for it on the way in, but a
            // fingerprint must never cost a record its writing.
            return null;
        }

        if (text is null)
        {
            return null;
        }

        var messages = body.GetProperty("messages");
        var whole = JsonMarshal.GetRawUtf8Value(body);
        var question = JsonMarshal.GetRawUtf8Value(messages[messages.GetArrayLength() - 1].GetProperty("content"));
        var at = (long)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(whole), ref MemoryMarshal.GetReference(question));
        if (at < 0 || at + question.Length > whole.Length)
        {
            return null;
        }

        // The body around the question, then the question normalised, hashed in one pass over a rented buffer.
        var normalised = QueryText.NormalisedOf(text);
        var length = whole.Length - question.Length + 2 + Encoding.UTF8.GetMaxByteCount(normalised.Length);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = 0;
            whole[..(int)at].CopyTo(buffer);
            written += (int)at;
            buffer[written++] = 0;
            whole[((int)at + question.Length)..].CopyTo(buffer.AsSpan(written));
            written += whole.Length - (int)at - question.Length;
            buffer[written++] = 0;
            written += Encoding.UTF8.GetBytes(normalised, buffer.AsSpan(written));
            return Hash(buffer.AsSpan(0, written));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The parts of a request that stay the same from call to call: leading system/developer messages, Anthropic's <c>system</c>, Responses' <c>instructions</c>, and the tools.</summary>
    private static List<JsonElement> Prefix(JsonElement body)
    {
        var parts = new List<JsonElement>();
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                    || !(role.ValueEquals("system") || role.ValueEquals("developer")))
                {
                    break;
                }

                parts.Add(message);
            }
        }

        foreach (var name in (ReadOnlySpan<string>)["system", "instructions", "tools"])
        {
            if (body.TryGetProperty(name, out var part) && part.ValueKind is JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Object)
            {
                parts.Add(part);
            }
        }

        return parts;
    }

    /// <summary>The prefix's text (every string in it) in the model's encoding, else about four characters a token.</summary>
    private static long CountTokens(List<JsonElement> prefix, string model)
    {
        var text = new StringBuilder();
        foreach (var part in prefix)
        {
            AppendStrings(part, text);
        }

        return ModelEncodings.For(model) is { } encoding ? encoding.Count(text.ToString()) : (text.Length + 3) / 4;
    }

    private static void AppendStrings(JsonElement element, StringBuilder text)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                text.Append(element.GetString()).Append('\n');
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    AppendStrings(item, text);
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    AppendStrings(property.Value, text);
                }

                break;
        }
    }

    /// <summary>The first 16 bytes of the SHA-256, in hex: 128 bits, enough to tell requests apart.</summary>
    private static string Hash(ReadOnlySpan<byte> bytes)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(bytes, digest);
        return Convert.ToHexStringLower(digest[..16]);
    }
}
