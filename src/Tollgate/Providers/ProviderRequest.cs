using System.Text.Json;
using Tollgate.Configuration;

namespace Tollgate.Providers;

/// <summary>The endpoint a request was made to.</summary>
public enum GatewayEndpoint
{
    ChatCompletions,
    Embeddings,
}

/// <summary>A request on its way to one deployment: the client's parsed body plus what the gateway decided.</summary>
public sealed record ProviderRequest(
    DeploymentConfig Deployment,
    GatewayEndpoint Endpoint,
    JsonElement Body,
    bool Stream,
    bool ClientWantsStreamUsage);
