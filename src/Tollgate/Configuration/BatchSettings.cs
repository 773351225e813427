namespace Tollgate.Configuration;

/// <summary>
/// How the gateway follows the batches created through it (<c>batches:</c> in tollgate.yaml): the first wait between
/// polls of a batch, doubled after each poll that finds it still running up to <see cref="MaxPollInterval"/>, and the
/// largest batch input file it takes (read whole, to rewrite each line's model and bound its cost).
/// </summary>
public sealed record BatchSettings(TimeSpan PollInterval, TimeSpan MaxPollInterval, long MaxFileBytes)
{
    public static BatchSettings Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10), 100L * 1024 * 1024);

    /// <summary>OpenAI's limit on requests per batch file, kept by the gateway too.</summary>
    public const int MaxLines = 50_000;
}
