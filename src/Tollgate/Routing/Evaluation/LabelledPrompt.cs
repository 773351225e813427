namespace Tollgate.Routing.Evaluation;

/// <summary>A prompt with whether the cheap and the strong model answered it right (RouteLLM's evaluation format), and its group (an MMLU subject).</summary>
public sealed record LabelledPrompt(string Prompt, bool CheapRight, bool StrongRight, string Group)
{
    /// <summary>Only the strong model got it right: the prompts a router should send to it.</summary>
    public bool NeedsStrong => StrongRight && !CheapRight;

    /// <summary>What sending it to the strong model gains, scaled to 0–1: 1 only the strong is right, 0 only the cheap, 0.5 both or neither.</summary>
    public double Gain => ((StrongRight ? 1 : 0) - (CheapRight ? 1 : 0) + 1) / 2.0;
}
