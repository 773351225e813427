using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Configuration;

/// <summary>
/// Typed reads from one YAML mapping that report problems to <see cref="ConfigDiagnostics"/> with the full path
/// instead of throwing, so that a reader can go on and list every error.
/// </summary>
internal sealed class YamlSection(YamlMappingNode node, string path, ConfigDiagnostics diagnostics)
{
    public string Path { get; } = path;

    public ConfigDiagnostics Diagnostics { get; } = diagnostics;

    public IEnumerable<string> Keys => node.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? string.Empty);

    public bool Has(string key) => Find(key) is not null;

    public string Child(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public string? String(string key, bool required = false)
    {
        switch (Find(key))
        {
            case null:
                if (required)
                {
                    Diagnostics.Error(Child(key), "is required");
                }

                return null;
            case YamlScalarNode scalar when !string.IsNullOrEmpty(scalar.Value):
                return scalar.Value;
            case YamlScalarNode:
                if (required)
                {
                    Diagnostics.Error(Child(key), "must not be empty");
                }

                return null;
            default:
                Diagnostics.Error(Child(key), "must be a text value");
                return null;
        }
    }

    public decimal? Decimal(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (decimal.TryParse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value) && value >= 0)
        {
            return value;
        }

        Diagnostics.Error(Child(key), $"'{text}' is not a non-negative number");
        return null;
    }

    public int? Int(string key, int min = 0)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min)
        {
            return value;
        }

        Diagnostics.Error(Child(key), $"'{text}' is not a whole number of at least {min}");
        return null;
    }

    /// <summary>One text value or a list of them (<c>a</c>, <c>[a, b]</c> or a block list).</summary>
    public IReadOnlyList<string> StringOrList(string key) =>
        Find(key) is YamlScalarNode { Value.Length: > 0 } scalar ? [scalar.Value!] : StringList(key);

    /// <summary>A list of text values (<c>[a, b]</c> or a block list).</summary>
    public IReadOnlyList<string> StringList(string key)
    {
        switch (Find(key))
        {
            case null:
                return [];
            case YamlSequenceNode sequence when sequence.Children.All(c => c is YamlScalarNode { Value.Length: > 0 }):
                return [.. sequence.Children.Cast<YamlScalarNode>().Select(c => c.Value!)];
            default:
                Diagnostics.Error(Child(key), "must be a list of names");
                return [];
        }
    }

    /// <summary>
    /// Checks the trained model file named by <paramref name="key"/> (when given): it must read as <paramref name="kind"/>
    /// (<paramref name="embedderOf"/> parses it and returns the embedder it was trained with, or throws
    /// <see cref="FormatException"/>) and have been trained with <paramref name="embedder"/>.
    /// </summary>
    public string? ModelFile(string key, string embedder, Func<string, string> embedderOf, string kind)
    {
        ArgumentNullException.ThrowIfNull(embedderOf);
        var path = String(key);
        if (path is null)
        {
            return null;
        }

        try
        {
            var trainedWith = embedderOf(File.ReadAllText(path));
            if (trainedWith != embedder)
            {
                Diagnostics.Error(Child(key), $"the model was trained with the embedder '{trainedWith}', not '{embedder}'");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            Diagnostics.Error(Child(key), $"cannot be read as {kind}: {ex.Message}");
        }

        return path;
    }

    public YamlSection? Section(string key)
    {
        return Find(key) switch
        {
            null => null,
            YamlMappingNode mapping => new YamlSection(mapping, Child(key), Diagnostics),
            _ => Invalid(key, "must be a mapping"),
        };
    }

    public IEnumerable<YamlSection> List(string key)
    {
        switch (Find(key))
        {
            case null:
                yield break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    if (sequence.Children[i] is YamlMappingNode mapping)
                    {
                        yield return new YamlSection(mapping, $"{Child(key)}[{i}]", Diagnostics);
                    }
                    else
                    {
                        Diagnostics.Error($"{Child(key)}[{i}]", "must be a mapping");
                    }
                }

                break;
            default:
                Diagnostics.Error(Child(key), "must be a list");
                break;
        }
    }

    /// <summary>Reports every key not in <paramref name="known"/> as an error (Tollgate files) or a warning (imported formats).</summary>
    public void RejectUnknown(IReadOnlyCollection<string> known, bool asWarnings = false)
    {
        foreach (var key in Keys.Where(k => !known.Contains(k)))
        {
            if (asWarnings)
            {
                Diagnostics.Warning(Child(key), "is not used by Tollgate and was ignored");
            }
            else
            {
                Diagnostics.Error(Child(key), $"unknown key (expected one of: {string.Join(", ", known)})");
            }
        }
    }

    private YamlNode? Find(string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private YamlSection? Invalid(string key, string message)
    {
        Diagnostics.Error(Child(key), message);
        return null;
    }
}
