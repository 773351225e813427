namespace Tollgate.Cli;

/// <summary>Writes a trained model (a pair model, a difficulty model) where the user asked, or says why it could not.</summary>
internal static class ModelFile
{
    /// <summary>True when <paramref name="json"/> was written to <paramref name="path"/>; else the reason is on standard error.</summary>
    public static async Task<bool> TryWriteAsync(string path, string json, string what, CancellationToken cancellationToken)
    {
        try
        {
            await File.WriteAllTextAsync(path, json, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"The {what} could not be written to {path}: {ex.Message}");
            return false;
        }
    }
}
