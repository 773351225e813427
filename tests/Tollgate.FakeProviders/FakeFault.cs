namespace Tollgate.FakeProviders;

/// <summary>What a fake upstream does wrong on purpose.</summary>
public enum FakeFault
{
    None,

    /// <summary>Answers with <see cref="FakeOpenAiUpstream.FaultStatus"/> and an OpenAI error body (429 carries Retry-After).</summary>
    ErrorStatus,

    /// <summary>Closes a stream after half its content chunks, before the usage chunk and [DONE].</summary>
    CutStream,

    /// <summary>Answers 200 with a body that is not JSON.</summary>
    BadJson,

    /// <summary>Waits <see cref="FakeOpenAiUpstream.FirstByteDelay"/> before answering.</summary>
    SlowFirstByte,

    /// <summary>Drops the connection (TCP reset) without answering.</summary>
    ConnectionReset,

    /// <summary>
    /// Starts a 200 stream, then sends an error event quoting the API key it was sent (as OpenAI's "Incorrect API key
    /// provided: sk-…" does) and ends the stream.
    /// </summary>
    ErrorEventInStream,
}
