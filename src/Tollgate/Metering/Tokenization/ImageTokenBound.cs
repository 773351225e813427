namespace Tollgate.Metering.Tokenization;

/// <summary>
/// The most input tokens one image can be billed as, by model family, whatever its size or detail setting: the
/// worst case of a request with images reserves this per image (the estimate counts a low-detail image, 85).
/// </summary>
public static class ImageTokenBound
{
    /// <summary>What an image is estimated at in <see cref="PromptTokenCount.Tokens"/>: OpenAI's low-detail image.</summary>
    public const int Estimate = 85;

    /// <summary>gpt-4o-mini bills images at 33× gpt-4o's tile rate: 2,833 base + 5,667 for each of at most 8 tiles.</summary>
    public const int Gpt4oMini = 2_833 + (8 * 5_667);

    /// <summary>
    /// Other OpenAI vision models: tile models top at 85 + 8 × 170 = 1,445; patch models at 1,536 patches × their
    /// multiplier, the largest 2.46 (the nano models): 3,779.
    /// </summary>
    public const int OpenAi = 3_779;

    /// <summary>
    /// Claude, Gemini and every other family: Anthropic documents about 1,600 tokens for the largest image it keeps
    /// (it downsizes beyond 1.15 megapixels), Gemini 258 per 768-pixel tile (1,120 at its highest media resolution);
    /// this ceiling leaves room for models that accept larger images than those.
    /// </summary>
    public const int Other = 5_000;

    public static int For(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var name = model.StartsWith("openai/", StringComparison.OrdinalIgnoreCase) ? model[7..] : model;
        if (name.StartsWith("gpt-4o-mini", StringComparison.OrdinalIgnoreCase))
        {
            return Gpt4oMini;
        }

        return ModelEncodings.For(model) is not null ? OpenAi : Other;
    }
}
