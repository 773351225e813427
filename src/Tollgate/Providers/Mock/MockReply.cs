using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.Mock;

/// <summary>
/// The deterministic content of a mock answer: the same request always gets the same words, and one word counts
/// as one output token. Prompt tokens use the same estimate a real tokenizer would roughly give.
/// </summary>
internal sealed record MockReply(string Id, IReadOnlyList<string> Words, long PromptTokens, bool CutByMaxTokens)
{
    private static readonly string[] Vocabulary =
    [
        "the", "gateway", "meters", "every", "token", "and", "prices", "it", "exactly", "so", "that", "teams", "can",
        "see", "where", "money", "goes", "budgets", "hold", "under", "load", "cached", "input", "costs", "less",
        "streams", "are", "never", "buffered", "a", "reply", "from", "mock", "model", "with", "realistic", "usage",
    ];

    public long OutputTokens => Words.Count;

    public static MockReply For(JsonElement body, int defaultReplyTokens)
    {
        var seed = Seed(body.TryGetProperty("messages", out var m) ? m.GetRawText() : body.GetRawText());
        var count = defaultReplyTokens;
        var cut = false;
        foreach (var name in new[] { "max_completion_tokens", "max_tokens" })
        {
            if (body.TryGetProperty(name, out var max) && max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var limit) && limit > 0)
            {
                cut = limit < count;
                count = Math.Min(count, limit);
                break;
            }
        }

        var words = new string[count];
        var state = seed | 1;
        for (var i = 0; i < count; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            words[i] = Vocabulary[(int)(state % (ulong)Vocabulary.Length)];
        }

        return new MockReply($"chatcmpl-mock{seed:x16}", words, TokenEstimator.EstimatePrompt(body), cut);
    }

    /// <summary>A stable 64-bit seed from text.</summary>
    public static ulong Seed(string text) => BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text))) | 1;
}
