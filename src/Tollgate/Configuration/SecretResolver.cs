using System.Text.RegularExpressions;

namespace Tollgate.Configuration;

/// <summary>
/// Expands secrets from the environment: <c>${NAME}</c> anywhere in a value (Tollgate style) or a whole value of
/// <c>os.environ/NAME</c> (LiteLLM style). A variable that is not set is a configuration error naming it — unless the
/// config is read by a tool that calls no provider (<paramref name="required"/> false), where the secret stays unset.
/// </summary>
internal sealed partial class SecretResolver(Func<string, string?> environment, bool required = true)
{
    private const string LiteLlmPrefix = "os.environ/";

    public string? Resolve(string? value, string path, ConfigDiagnostics diagnostics)
    {
        if (value is null)
        {
            return null;
        }

        if (value.StartsWith(LiteLlmPrefix, StringComparison.Ordinal))
        {
            return Lookup(value[LiteLlmPrefix.Length..], path, diagnostics);
        }

        return Placeholder().Replace(value, match => Lookup(match.Groups[1].Value, path, diagnostics) ?? string.Empty);
    }

    private string? Lookup(string name, string path, ConfigDiagnostics diagnostics)
    {
        var value = environment(name);
        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                diagnostics.Error(path, $"environment variable {name} is not set");
            }

            return null;
        }

        return value;
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
