using Tollgate.Configuration;
using Tollgate.Providers.Anthropic;
using Tollgate.Providers.Gemini;
using Tollgate.Providers.Mock;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Providers;

/// <summary>Picks the adapter that speaks a deployment's wire format.</summary>
public sealed class ProviderRegistry(OpenAiCompatibleAdapter openAiCompatible, AnthropicAdapter anthropic, GeminiAdapter gemini, MockAdapter mock)
{
    public IProviderAdapter For(DeploymentConfig deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return KnownProviders.WireFormat(deployment.Provider) switch
        {
            KnownProviders.Mock => mock,
            KnownProviders.Anthropic => anthropic,
            KnownProviders.Gemini => gemini,
            _ => openAiCompatible,
        };
    }
}
