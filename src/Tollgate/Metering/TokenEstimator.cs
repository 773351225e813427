using System.Text.Json;

namespace Tollgate.Metering;

/// <summary>
/// A rough token estimate used only when a provider never reports usage (for example a stream cut before its
/// usage chunk). Records priced from it are flagged as estimated. About four characters a token for English text,
/// plus the chat format's per-message overhead.
/// </summary>
public static class TokenEstimator
{
    private const int CharactersPerToken = 4;
    private const int TokensPerMessage = 4;
    private const int TokensPerReply = 3;

    public static long FromCharacters(long characters) => characters <= 0 ? 0 : (characters + CharactersPerToken - 1) / CharactersPerToken;

    /// <summary>Estimates the prompt tokens of a chat or embeddings request body.</summary>
    public static long EstimatePrompt(JsonElement body)
    {
        long tokens = 0;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return 0;
        }

        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                tokens += TokensPerMessage + FromCharacters(TextLength(message));
            }

            tokens += TokensPerReply;
        }

        if (body.TryGetProperty("system", out var system))
        {
            tokens += FromCharacters(TextLength(system));
        }

        if (body.TryGetProperty("input", out var input))
        {
            tokens += FromCharacters(TextLength(input));
        }

        return tokens;
    }

    private static long TextLength(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!.Length,
        JsonValueKind.Array => element.EnumerateArray().Sum(TextLength),
        JsonValueKind.Object => element.EnumerateObject().Sum(p => TextLength(p.Value)),
        _ => 0,
    };
}
