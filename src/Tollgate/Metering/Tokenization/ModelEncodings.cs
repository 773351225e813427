namespace Tollgate.Metering.Tokenization;

/// <summary>Which tiktoken encoding an OpenAI model family uses; null for any other family (counted by estimate).</summary>
public static class ModelEncodings
{
    private static readonly string[] O200kFamilies = ["gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4", "gpt-oss", "openai/gpt-oss"];
    private static readonly string[] Cl100kFamilies = ["gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada-002"];

    public static BpeEncoding? For(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var name = model.StartsWith("openai/", StringComparison.OrdinalIgnoreCase) && !model.StartsWith("openai/gpt-oss", StringComparison.OrdinalIgnoreCase)
            ? model[7..]
            : model;
        if (O200kFamilies.Any(f => name.StartsWith(f, StringComparison.OrdinalIgnoreCase)))
        {
            return BpeEncoding.O200kBase;
        }

        return Cl100kFamilies.Any(f => name.StartsWith(f, StringComparison.OrdinalIgnoreCase)) ? BpeEncoding.Cl100kBase : null;
    }
}
