using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.OpenAiCompatible;

/// <summary>
/// One OpenAI-format stream: keeps the usage chunk's counts, hides that chunk from a client that did not ask for it,
/// and marks <c>[DONE]</c> as the end.
/// </summary>
public sealed class OpenAiStreamInspector(bool clientWantsUsage) : IStreamInspector
{
    public Usage Usage { get; private set; } = Usage.None;

    public bool UsageFinal => Usage.IsReported;

    public StreamEventFacts Inspect(ReadOnlySpan<byte> data)
    {
        var facts = OpenAiChunkInspector.Inspect(data);
        if (facts.Usage is { } reported)
        {
            Usage = reported;
        }

        return new StreamEventFacts(facts.IsDone, !(facts.IsUsageOnly && !clientWantsUsage), facts.ContentCharacters);
    }
}
