using System.Net.Http.Json;
using System.Text.Json;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>Several texts embedded in one call: an in-process model's batch, an embeddings endpoint's input array.</summary>
public interface IBatchEmbedder
{
    /// <summary>The texts' unit vectors, in order.</summary>
    ValueTask<float[][]> EmbedManyAsync(string[] texts, CancellationToken cancellationToken);
}

/// <summary>
/// An OpenAI-compatible <c>/embeddings</c> endpoint as an embedder for the offline evaluation (<c>tollgate cache eval
/// --embedder alias:NAME --embeddings-url URL</c>): pointed at a running gateway's <c>/v1</c> with its embeddings alias
/// NAME, it gives the vectors the gateway's semantic cache gets with <c>embedder: alias:NAME</c> — the multilingual
/// path, so a pair model can be trained for it. Vectors are L2-normalised as the gateway's alias embedder does; up to
/// 64 texts a call.
/// </summary>
public sealed class RemoteEmbedder(HttpClient http, Uri baseUrl, string model, string? apiKey) : ITextEmbedder, IBatchEmbedder
{
    private const int MaxInputs = 64;

    public string Name => "alias:" + model;

    /// <summary>The vectors' length: 0 until the first answer.</summary>
    public int Dimensions { get; private set; }

    public async ValueTask<float[]?> EmbedAsync(string text, Ledger.Attribution? payer, CancellationToken cancellationToken) =>
        (await EmbedManyAsync([text], cancellationToken))[0];

    public async ValueTask<float[][]> EmbedManyAsync(string[] texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var vectors = new List<float[]>(texts.Length);
        for (var start = 0; start < texts.Length; start += MaxInputs)
        {
            var input = texts.Skip(start).Take(MaxInputs).ToArray();
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl.ToString().TrimEnd('/') + "/embeddings"))
            {
                Content = JsonContent.Create(new Dictionary<string, object> { ["model"] = model, ["input"] = input }),
            };
            if (apiKey is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
            }

            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"{request.RequestUri} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
            }

            vectors.AddRange(Vectors(body, input.Length));
        }

        return [.. vectors];
    }

    /// <summary>The answer's vectors by index, normalised; <see cref="FormatException"/> when it is not an embeddings list of the inputs.</summary>
    private float[][] Vectors(string body, int count)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var vectors = new float[count][];
            foreach (var item in document.RootElement.GetProperty("data").EnumerateArray())
            {
                var vector = UnitVector.Of(item.GetProperty("embedding"));
                if (vector is null || (Dimensions != 0 && vector.Length != Dimensions))
                {
                    throw new FormatException($"An embedding that is not {(Dimensions == 0 ? "a non-zero vector" : $"a non-zero vector of {Dimensions} components")} of finite numbers.");
                }

                Dimensions = vector.Length;
                vectors[item.GetProperty("index").GetInt32()] = vector;
            }

            return vectors.All(v => v is not null) ? vectors : throw new FormatException("Not every input has a vector.");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new FormatException("Not an embeddings answer: " + ex.Message, ex);
        }
    }
}
