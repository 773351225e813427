using Tollgate.Metering;

namespace Tollgate.Providers.Streaming;

/// <summary>What the relay should do with one event.</summary>
/// <param name="IsEnd">The stream's end marker: the gateway's trailer goes just before it.</param>
/// <param name="Forward">False for an event the client must not see (a usage chunk it did not ask for).</param>
/// <param name="ContentCharacters">Generated text in the event, to estimate output if usage never arrives.</param>
/// <param name="Rewritten">When set, these bytes (zero or more whole events) go to the client instead of the event: a
/// stream translated from one provider's format into another's.</param>
public readonly record struct StreamEventFacts(bool IsEnd, bool Forward, long ContentCharacters, ReadOnlyMemory<byte>? Rewritten = null);

/// <summary>Reads one provider format's stream events, one stream at a time, and keeps the usage they report.</summary>
public interface IStreamInspector
{
    /// <summary>The usage reported so far (<see cref="Usage.None"/> until the provider says).</summary>
    Usage Usage { get; }

    /// <summary>True once the provider has sent its final counts; before that only the input counts can be trusted.</summary>
    bool UsageFinal { get; }

    StreamEventFacts Inspect(ReadOnlySpan<byte> data);

    /// <summary>
    /// Called when the provider's stream ends without an end marker of its own (Gemini's). Returns the events that
    /// close the stream for the client (for example OpenAI's <c>[DONE]</c>), or null if the stream was not finished.
    /// </summary>
    ReadOnlyMemory<byte>? Complete() => null;

    /// <summary>The id of what the provider keeps of this stream (a Responses API response's id), once an event named it.</summary>
    string? ProviderObjectId => null;
}
