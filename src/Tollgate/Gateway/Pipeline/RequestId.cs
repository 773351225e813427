using System.Buffers.Binary;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Request ids: <c>req_</c> and a UUID of version 7 in 32 lowercase hex digits — ordered by time (the ledger's key,
/// so records are inserted in order) and unique. Its 74 random bits come from the fast per-thread generator, not from
/// the operating system: <see cref="Guid.CreateVersion7(DateTimeOffset)"/> reads <c>/dev/urandom</c> on every call,
/// a system call per request, and an id needs to be unique, not secret.
/// </summary>
public static class RequestId
{
    public const string Prefix = "req_";

    public static string New(DateTimeOffset at)
    {
        Span<byte> uuid = stackalloc byte[16];
        Random.Shared.NextBytes(uuid[6..]);
        var milliseconds = (ulong)at.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteUInt64BigEndian(uuid, (milliseconds << 16) | BinaryPrimitives.ReadUInt16BigEndian(uuid[6..]));
        uuid[6] = (byte)(0x70 | (uuid[6] & 0x0F));
        uuid[8] = (byte)(0x80 | (uuid[8] & 0x3F));
        Span<char> text = stackalloc char[Prefix.Length + 32];
        Prefix.CopyTo(text);
        Convert.TryToHexStringLower(uuid, text[Prefix.Length..], out _);
        return new string(text);
    }
}
