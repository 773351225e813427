namespace Tollgate.Configuration;

/// <summary>Collects every error and warning found while reading a configuration, each with its path.</summary>
internal sealed class ConfigDiagnostics
{
    public List<string> Errors { get; } = [];
    public List<string> Warnings { get; } = [];

    public void Error(string path, string message) => Errors.Add($"{path}: {message}");

    public void Warning(string path, string message) => Warnings.Add($"{path}: {message}");
}
