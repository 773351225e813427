using System.Text;
using Tollgate.Configuration;

namespace Tollgate.Gateway.Errors;

/// <summary>
/// Removes the provider API keys and the master key from any text that leaves the gateway as an error: a provider's
/// error body passed on to the client (some providers quote the key they were sent), failure messages, and the
/// ledger's error column.
/// </summary>
public sealed class SecretScrubber
{
    public const string Mask = "[redacted]";
    private static readonly byte[] MaskBytes = Encoding.UTF8.GetBytes(Mask);
    private readonly string[] _secrets;
    private readonly byte[][] _secretBytes;

    public SecretScrubber(GatewayConfig config, string masterKey)
    {
        ArgumentNullException.ThrowIfNull(config);
        _secrets = [.. config.Deployments.Select(d => d.ApiKey).Append(masterKey)
            .Where(s => s is { Length: >= 8 })
            .Select(s => s!)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length)];
        _secretBytes = [.. _secrets.Select(Encoding.UTF8.GetBytes)];
    }

    public string Scrub(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>The body itself when it holds no secret (the usual case, no copy), else a masked copy.</summary>
    public ReadOnlyMemory<byte> Scrub(ReadOnlyMemory<byte> body)
    {
        foreach (var secret in _secretBytes)
        {
            while (body.Span.IndexOf(secret) is var at and >= 0)
            {
                var masked = new byte[body.Length - secret.Length + MaskBytes.Length];
                body.Span[..at].CopyTo(masked);
                MaskBytes.CopyTo(masked.AsSpan(at));
                body.Span[(at + secret.Length)..].CopyTo(masked.AsSpan(at + MaskBytes.Length));
                body = masked;
            }
        }

        return body;
    }
}
