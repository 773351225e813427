using System.Collections.Concurrent;
using System.Text.Json;
using Tollgate.Providers;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// The keys of request bodies seen lately, by the body's exact bytes: a client that sends the same request again — the
/// request an exact hit answers — gets its key without the body being written again in canonical form (~4 µs for a
/// short chat request, most of a hit's own work). Bodies over 8 KiB are not remembered; past 4 MiB of remembered bodies
/// it starts afresh. The key is a function of tenant, endpoint and body, so the same bytes always have the same key.
/// </summary>
public sealed class RecentKeys
{
    private const int MaxBodyBytes = 8 * 1024;
    private const long MaxTotalBytes = 4 * 1024 * 1024;

    private readonly ConcurrentDictionary<Remembered, string> _keys = new(new RememberedComparer());
    private long _bytes;

    /// <summary>The key of <paramref name="body"/> (whose bytes are <paramref name="bytes"/>) asked by <paramref name="tenant"/>.</summary>
    public string KeyOf(string tenant, GatewayEndpoint endpoint, JsonElement body, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBodyBytes)
        {
            return ResponseCacheKey.Of(tenant, endpoint, body);
        }

        var asked = new Asked(tenant, endpoint, bytes);
        if (_keys.GetAlternateLookup<Asked>().TryGetValue(asked, out var known))
        {
            return known;
        }

        var key = ResponseCacheKey.Of(tenant, endpoint, body);
        if (Interlocked.Add(ref _bytes, bytes.Length + tenant.Length) > MaxTotalBytes)
        {
            _keys.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }

        _keys.TryAdd(new Remembered(tenant, endpoint, bytes.ToArray(), asked.Hash), key);
        return key;
    }

    /// <summary>What a request asks, as it arrives: not copied unless it is remembered.</summary>
    private readonly ref struct Asked(string tenant, GatewayEndpoint endpoint, ReadOnlySpan<byte> bytes)
    {
        public string Tenant { get; } = tenant;

        public GatewayEndpoint Endpoint { get; } = endpoint;

        public ReadOnlySpan<byte> Bytes { get; } = bytes;

        public int Hash { get; } = HashOf(tenant, endpoint, bytes);
    }

    private sealed record Remembered(string Tenant, GatewayEndpoint Endpoint, byte[] Bytes, int Hash);

    private static int HashOf(string tenant, GatewayEndpoint endpoint, ReadOnlySpan<byte> bytes)
    {
        var hash = new HashCode();
        hash.Add(tenant, StringComparer.Ordinal);
        hash.Add(endpoint);
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }

    private sealed class RememberedComparer : IEqualityComparer<Remembered>, IAlternateEqualityComparer<Asked, Remembered>
    {
        public bool Equals(Remembered? x, Remembered? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && Equals(new Asked(x.Tenant, x.Endpoint, x.Bytes), y));

        public int GetHashCode(Remembered obj) => obj.Hash;

        public bool Equals(Asked alternate, Remembered other) =>
            alternate.Hash == other.Hash && alternate.Endpoint == other.Endpoint
            && string.Equals(alternate.Tenant, other.Tenant, StringComparison.Ordinal) && alternate.Bytes.SequenceEqual(other.Bytes);

        public int GetHashCode(Asked alternate) => alternate.Hash;

        public Remembered Create(Asked alternate) => new(alternate.Tenant, alternate.Endpoint, alternate.Bytes.ToArray(), alternate.Hash);
    }
}
