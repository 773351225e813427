namespace Tollgate.Routing.Difficulty;

/// <summary>
/// A router's <c>difficulty:</c> strategy: the prompt's last user message is embedded and scored; above the bar it goes
/// to <see cref="Strong"/>, else to <see cref="Cheap"/> (or, without one, on to the weights). Scored either against the
/// centroids of example prompts (<see cref="Simple"/>, <see cref="Complex"/>: strong when the complex centroid is more
/// similar by more than <see cref="Margin"/>), or by a trained <see cref="DifficultyModel"/> (strong at or above
/// <see cref="Threshold"/>).
/// </summary>
public sealed record DifficultySettings(string Embedder, string Strong, string? Cheap)
{
    public IReadOnlyList<string> Simple { get; init; } = [];
    public IReadOnlyList<string> Complex { get; init; } = [];
    public double Margin { get; init; } = 0.15;

    /// <summary>The file of a trained model (<c>tollgate route eval --save-model</c>); null for the centroid rule.</summary>
    public string? ModelPath { get; init; }

    public double Threshold { get; init; } = 0.5;
}
