using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Tollgate.Configuration;

namespace Tollgate.Providers;

/// <summary>The endpoint a request was made to.</summary>
public enum GatewayEndpoint
{
    ChatCompletions,
    Embeddings,

    /// <summary>Anthropic's native Messages API, <c>/v1/messages</c>.</summary>
    Messages,

    /// <summary>Legacy text completions, <c>/v1/completions</c> (vLLM, llama.cpp, OpenRouter, DeepSeek's fill-in-the-middle).</summary>
    Completions,

    /// <summary>OpenAI's Responses API, <c>POST /v1/responses</c>.</summary>
    Responses,
}

/// <summary>A request on its way to one deployment: the client's parsed body plus what the gateway decided.</summary>
public sealed record ProviderRequest(
    DeploymentConfig Deployment,
    GatewayEndpoint Endpoint,
    JsonElement Body,
    bool Stream,
    bool ClientWantsStreamUsage)
{
    /// <summary>Client headers the provider's own protocol needs (e.g. <c>anthropic-version</c>), by allow-list.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ForwardedHeaders { get; init; } = [];

    /// <summary>
    /// A buffer for the provider's body, sized from the client's body so that writing it seldom grows the buffer
    /// (a rewrite changes a few fields; a translation to another format stays within a small factor).
    /// </summary>
    public ArrayBufferWriter<byte> BodyBuffer() => new(JsonMarshal.GetRawUtf8Value(Body).Length + 256);
}
