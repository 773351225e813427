using System.IO.Pipelines;
using System.Text;
using Tollgate.Providers;
using Tollgate.Providers.Anthropic;
using Tollgate.Providers.Gemini;
using Tollgate.Providers.OpenAiCompatible;
using Tollgate.Providers.Streaming;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Providers;

/// <summary>
/// Whatever a provider sends — truncated streams, flipped bytes, random garbage, any chunking — the SSE framer and
/// every inspector and translator end with an outcome (never an exception), so the request is still recorded.
/// </summary>
public sealed class StreamParserFuzzTests
{
    public static TheoryData<string> Parsers => ["openai", "anthropic", "anthropic-to-openai", "gemini-to-openai"];

    private static IStreamInspector Create(string parser) => parser switch
    {
        "openai" => new OpenAiStreamInspector(clientWantsUsage: false),
        "anthropic" => new AnthropicStreamInspector(),
        "anthropic-to-openai" => new AnthropicChatStreamTranslator(clientWantsUsage: false, 1764000000),
        _ => new GeminiChatStreamTranslator("gemini-2.5-flash", clientWantsUsage: true, 1764000000),
    };

    /// <summary>The golden stream of the parser's provider format.</summary>
    private static byte[] Seed(string parser)
    {
        var format = parser.Split('-')[0];
        var fixture = GoldenFixtureTests.StreamFixtures().Cast<object[]>().Select(row => (GoldenFixtureTests.Fixture)row[0]).First(f => f.Format == format);
        return Encoding.UTF8.GetBytes(fixture.Body);
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public async Task A_stream_cut_at_any_byte_ends_with_an_outcome(string parser)
    {
        var seed = Seed(parser);
        for (var cut = 0; cut < seed.Length; cut++)
        {
            var outcome = await RelayAsync(parser, [seed[..cut]]);
            Assert.NotNull(outcome);
        }
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public async Task Mutated_and_random_streams_in_random_chunks_end_with_an_outcome(string parser)
    {
        var seed = Seed(parser);
        var random = new Random(20261124);
        for (var round = 0; round < 500; round++)
        {
            var bytes = round % 5 == 0 ? RandomBytes(random, random.Next(0, 400)) : Mutate(seed, random);
            var outcome = await RelayAsync(parser, Chunks(bytes, random));
            Assert.NotNull(outcome);
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);

        // Sprinkle in the bytes the parsers look for, so the garbage reaches them.
        for (var i = 0; i < length; i += random.Next(1, 20))
        {
            var interesting = "\n\r{}\":[] data:"u8;
            bytes[i] = interesting[random.Next(0, interesting.Length)];
        }

        return bytes;
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        for (var edits = random.Next(1, 8); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(0, bytes.Count);
            switch (random.Next(0, 4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(0, 256);
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 30)));
                    break;
                case 2:
                    bytes.InsertRange(at, RandomBytes(random, random.Next(1, 30)));
                    break;
                default:
                    // Duplicate a slice: repeated events, repeated usage.
                    var length = Math.Min(bytes.Count - at, random.Next(1, 200));
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
            }
        }

        return [.. bytes];
    }

    private static List<byte[]> Chunks(byte[] bytes, Random random)
    {
        var chunks = new List<byte[]>();
        for (var start = 0; start < bytes.Length;)
        {
            var length = Math.Min(bytes.Length - start, random.Next(1, 64));
            chunks.Add(bytes[start..(start + length)]);
            start += length;
        }

        return chunks;
    }

    private static async Task<StreamOutcome> RelayAsync(string parser, IEnumerable<byte[]> writes)
    {
        var pipe = new Pipe();
        foreach (var write in writes)
        {
            await pipe.Writer.WriteAsync(write);
        }

        await pipe.Writer.CompleteAsync();
        return await SseRelay.RelayAsync(pipe.Reader, Create(parser), UpstreamHeaders.None, new RecordingSink(), CancellationToken.None, CancellationToken.None);
    }
}
