namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// The semantic cache (<c>cache: semantic:</c>), opt-in per alias, feature or key: a question worded differently from a kept one, in
/// the same context, may be answered from the kept answer. Either a fixed <see cref="Threshold"/> or a tolerated
/// <see cref="MaxErrorRate"/> (the bounded mode); never both.
/// </summary>
/// <param name="Aliases">The aliases it applies to.</param>
/// <param name="Features">The features (<c>X-Feature</c>) it applies to, on any alias.</param>
/// <param name="Keys">The virtual key ids it applies to, on any alias. Nothing is covered unless one of the three names it.</param>
/// <param name="Embedder"><c>lexical</c> (no model), <c>minilm</c> (all-MiniLM-L6-v2, English, in-process) or <c>alias:NAME</c> (an embeddings alias of the gateway).</param>
/// <param name="Threshold">Fixed mode: the similarity at or above which a kept answer is served.</param>
/// <param name="MaxErrorRate">Bounded mode: the tolerated share of wrong answers among those served.</param>
/// <param name="VerifySharePercent">Bounded mode: the share of would-be hits forwarded anyway and compared, in percent.</param>
/// <param name="MinimumSimilarity">Bounded mode: below this a lookup is a plain miss.</param>
/// <param name="AnswerMatch">Bounded mode: how similar a fresh answer must be to the kept one for the kept one to count as right.</param>
/// <param name="MaxEntries">Questions remembered in all; the oldest go first.</param>
/// <param name="PairModel">
/// A pair model file (<see cref="PairScorer"/>, written by <c>tollgate cache eval --save-pair-model</c>): the nearest kept
/// question is judged by it, and <see cref="Threshold"/>, the bounded mode and the reported similarity are its score.
/// </param>
/// <param name="Guards">
/// Whether a hit is refused when the numbers, negations or names of the two questions differ (on by default). A pair
/// model sees those differences among its features and may be trusted with them instead (<c>guards: false</c>).
/// </param>
public sealed record SemanticCacheSettings(
    IReadOnlyList<string> Aliases,
    IReadOnlyList<string> Features,
    IReadOnlyList<string> Keys,
    string Embedder,
    double? Threshold,
    double? MaxErrorRate,
    double VerifySharePercent,
    double MinimumSimilarity,
    double AnswerMatch,
    int MaxEntries,
    string? PairModel = null,
    bool Guards = true)
{
    /// <summary>The longest last message looked up: long prompts are rarely asked twice in other words, and embedding them costs.</summary>
    public const int MaxQueryCharacters = 2_000;

    public static SemanticCacheSettings Off { get; } = new([], [], [], "lexical", null, null, 5, 0.80, 0.90, 100_000);

    /// <summary>The alias named by <c>embedder: alias:NAME</c>, else null.</summary>
    public static string? EmbedderAlias(string embedder) =>
        embedder.StartsWith("alias:", StringComparison.Ordinal) && embedder.Length > "alias:".Length ? embedder["alias:".Length..] : null;

    /// <summary>Whether <paramref name="embedder"/> names an embedder: lexical, an in-process model or <c>alias:NAME</c>.</summary>
    public static bool IsEmbedder(string embedder) =>
        embedder == "lexical" || SentenceModelEmbedder.Names.Contains(embedder, StringComparer.Ordinal) || EmbedderAlias(embedder) is not null;

    /// <summary>What a configuration error says when <see cref="IsEmbedder"/> is false.</summary>
    public static string NotAnEmbedder(string embedder) =>
        $"'{embedder}' is not one of: lexical, {string.Join(", ", SentenceModelEmbedder.Names)}, alias:NAME (an embeddings alias of this gateway)";

    /// <summary>Whether anything is opted in.</summary>
    public bool IsOn => Aliases.Count + Features.Count + Keys.Count > 0;

    /// <summary>Whether a request to <paramref name="alias"/> for <paramref name="feature"/> with <paramref name="keyId"/> is looked up.</summary>
    public bool Covers(string alias, string? feature, string? keyId) =>
        Aliases.Contains(alias, StringComparer.Ordinal)
        || (feature is not null && Features.Contains(feature, StringComparer.Ordinal))
        || (keyId is not null && Keys.Contains(keyId, StringComparer.Ordinal));
}
