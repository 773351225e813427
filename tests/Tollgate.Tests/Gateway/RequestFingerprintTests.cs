using System.Text.Json;
using Tollgate.Gateway.Pipeline;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// A request's question hash is the same for the same question written differently — case, punctuation, number
/// formats, filler words — with the same context, and different when a number, a negation, the context or the model
/// differs; requests without a plain last user question have none.
/// </summary>
public sealed class RequestFingerprintTests
{
    [Fact]
    public void The_same_question_written_differently_shares_a_question_hash_and_a_different_one_does_not()
    {
        var asked = Question("Giao hàng mất 1,000 ngày?");
        Assert.Equal(asked, Question("giao hàng mất 1000 ngày ạ"));
        Assert.Equal(asked, Question("GIAO HÀNG MẤT 1.000 NGÀY!!!"));

        Assert.NotEqual(asked, Question("Giao hàng mất 2,000 ngày?"));
        Assert.NotEqual(asked, Question("Giao hàng không mất 1,000 ngày?"));
        Assert.NotEqual(asked, Question("Giao hàng mất 1,000 ngày?", system: "Trả lời ngắn."));
        Assert.NotEqual(asked, Question("Giao hàng mất 1,000 ngày?", model: "gpt-4o"));

        var body = JsonDocument.Parse("""{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}""").RootElement;
        Assert.Null(RequestFingerprint.Of(body, "m", hashes: true).QuestionHash);
        Assert.Null(RequestFingerprint.Of(JsonDocument.Parse(Body("hi", null, "m")).RootElement, "m", hashes: false).QuestionHash);

        // A lone surrogate escape has no text: no question hash, and no exception that could cost the record.
        var lone = JsonDocument.Parse("""{"model":"m","messages":[{"role":"user","content":"\ud800 hi"}]}""").RootElement;
        var fingerprint = RequestFingerprint.Of(lone, "m", hashes: true);
        Assert.Null(fingerprint.QuestionHash);
        Assert.NotNull(fingerprint.RequestHash);
    }

    private static string Question(string text, string? system = null, string model = "gpt-4o-mini")
    {
        var fingerprint = RequestFingerprint.Of(JsonDocument.Parse(Body(text, system, model)).RootElement, model, hashes: true);
        Assert.Equal(32, fingerprint.QuestionHash!.Length);
        return fingerprint.QuestionHash;
    }

    private static string Body(string text, string? system, string model) => JsonSerializer.Serialize(new
    {
        model,
        messages = system is null
            ? new object[] { new { role = "user", content = text } }
            : [new { role = "system", content = system }, new { role = "user", content = text }],
    });
}
