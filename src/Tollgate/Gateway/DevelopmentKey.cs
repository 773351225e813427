using System.Security.Cryptography;

namespace Tollgate.Gateway;

/// <summary>
/// The key used when the configuration sets no master key: generated once (256 random bits), kept in the data
/// folder readable only by its owner, and printed at start so a first curl works.
/// </summary>
public static class DevelopmentKey
{
    public const string FileName = "dev-master-key";

    public static string LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0)
            {
                return existing;
            }
        }

        var key = "sk-tollgate-dev-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(key);
        }

        return key;
    }
}
