using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Policy.Keys;

/// <summary>Making and recognising key secrets: 256 random bits, kept only as SHA-256.</summary>
public static class KeySecret
{
    public const string Scheme = "sk-tg-";
    private const int VisiblePrefixLength = 12;

    public static string New() => Scheme + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>What may be shown of a key: its scheme and first characters, enough to recognise, not to use.</summary>
    public static string Prefix(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return secret[..Math.Min(secret.Length, Scheme.Length + VisiblePrefixLength)];
    }

    /// <summary>Constant-time comparison of two hex hashes.</summary>
    public static bool SameHash(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
