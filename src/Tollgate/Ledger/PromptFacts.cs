using System.Buffers.Binary;
using System.Text;

namespace Tollgate.Ledger;

/// <summary>What a prompt carries besides text, as a router's rules read it.</summary>
[Flags]
public enum PromptShape
{
    None = 0,
    Tools = 1,
    Images = 2,
    ResponseFormat = 4,
}

/// <summary>
/// What <c>tollgate route simulate</c> needs of a prompt to route it again without its text, kept on its record when
/// <c>storage.record_prompt_facts</c> is on: its length in characters, its shape, and — when an embedder is named — the
/// vector of its last user message. Never the text itself.
/// </summary>
/// <param name="Characters">Characters of text in every message (system prompt included), as a router's character rules count them.</param>
/// <param name="Shape">Tools, images, a response format.</param>
/// <param name="Vector">The last user message's vector, or null (no embedder named, no user text, the embedder failed).</param>
public sealed record PromptFacts(long Characters, PromptShape Shape, PromptVector? Vector);

/// <summary>
/// A vector kept on a record, in half precision (2 bytes a dimension; a relative error of about 0.1%, far below what
/// moves a difficulty score across its bar except at the bar itself), with the name of the embedder that made it: a
/// vector is only compared with vectors of the same embedder.
/// </summary>
public sealed class PromptVector : IEquatable<PromptVector>
{
    private const byte Version = 1;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly Half[] _values;

    private PromptVector(string embedder, Half[] values)
    {
        Embedder = embedder;
        _values = values;
    }

    public string Embedder { get; }

    public int Dimensions => _values.Length;

    /// <summary>The vector of <paramref name="embedder"/>, kept at half precision.</summary>
    public static PromptVector Of(string embedder, ReadOnlySpan<float> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(embedder);
        if (Encoding.UTF8.GetByteCount(embedder) > byte.MaxValue || values.Length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(embedder), "an embedder name of at most 255 bytes and at most 65,535 dimensions");
        }

        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }

        return new PromptVector(embedder, halves);
    }

    public float[] ToFloats()
    {
        var values = new float[_values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)_values[i];
        }

        return values;
    }

    /// <summary>Version, the embedder's name (length-prefixed UTF-8), the dimension count, then each value (little-endian halves).</summary>
    public byte[] Encode()
    {
        var name = Encoding.UTF8.GetBytes(Embedder);
        var bytes = new byte[2 + name.Length + 2 + (2 * _values.Length)];
        bytes[0] = Version;
        bytes[1] = (byte)name.Length;
        name.CopyTo(bytes, 2);
        var at = 2 + name.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), (ushort)_values.Length);
        at += 2;
        foreach (var value in _values)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(at), value);
            at += 2;
        }

        return bytes;
    }

    /// <summary>The vector <see cref="Encode"/> wrote; null for bytes it did not write.</summary>
    public static PromptVector? Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4 || bytes[0] != Version || bytes[1] == 0 || bytes.Length < 2 + bytes[1] + 2)
        {
            return null;
        }

        string name;
        try
        {
            name = StrictUtf8.GetString(bytes.Slice(2, bytes[1]));
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var at = 2 + bytes[1];
        var count = BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]);
        at += 2;
        if (bytes.Length != at + (2 * count))
        {
            return null;
        }

        var values = new Half[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadHalfLittleEndian(bytes[(at + (2 * i))..]);
        }

        return new PromptVector(name, values);
    }

    public bool Equals(PromptVector? other) =>
        other is not null && Embedder == other.Embedder && _values.AsSpan().SequenceEqual(other._values);

    public override bool Equals(object? obj) => Equals(obj as PromptVector);

    public override int GetHashCode() => HashCode.Combine(Embedder, _values.Length);
}
