using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>Azure OpenAI: deployment URL, api-version query parameter, api-key header; priced as the model behind the deployment.</summary>
public sealed class AzureOpenAiTests : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task Chat_goes_to_the_deployment_url_with_api_version_and_api_key_and_is_priced_as_its_model()
    {
        var azureBase = new Uri(_upstream.BaseUrl, "/");
        await using var gateway = await TestGateway.StartAsync($"""
            models:
              - alias: gpt-4o-mini
                provider: azure
                model: prod-gpt4o-mini
                base_url: {azureBase}
                api_key: azure-key-123
                api_version: 2024-10-21
                price_as: gpt-4o-mini
            """);

        var completion = (await gateway.OpenAiChat("gpt-4o-mini").CompleteChatAsync([new OpenAI.Chat.UserChatMessage("hi")])).Value;

        Assert.Equal(_upstream.ReplyText, completion.Content[0].Text);
        var received = Assert.Single(_upstream.Received);
        Assert.Equal("/openai/deployments/prod-gpt4o-mini/chat/completions?api-version=2024-10-21", received.Path);
        Assert.Equal("azure-key-123", received.Headers["api-key"]);
        Assert.False(received.Headers.ContainsKey("Authorization"));
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal(("azure", "prod-gpt4o-mini"), (record.Provider, record.UpstreamModel));
        Assert.Equal((42 * 0.15m + 17 * 0.6m) / 1_000_000m, record.Cost.Total);
    }

    [Fact]
    public void A_litellm_azure_entry_is_served_with_its_api_version()
    {
        var config = Tollgate.Configuration.ConfigLoader.Parse("""
            model_list:
              - model_name: gpt-4o
                litellm_params:
                  model: azure/my-gpt4o
                  api_base: https://acme.openai.azure.com
                  api_key: os.environ/AZURE_API_KEY
                  api_version: "2025-01-01-preview"
            """, "litellm.yaml", name => name == "AZURE_API_KEY" ? "k" : null);

        var deployment = Assert.Single(config.Deployments);
        Assert.Equal(("azure", "my-gpt4o", "2025-01-01-preview"), (deployment.Provider, deployment.Model, deployment.ApiVersion));
    }

    [Fact]
    public void An_azure_deployment_needs_its_resource_url()
    {
        var ex = Assert.Throws<Tollgate.Configuration.ConfigException>(() => Tollgate.Configuration.ConfigLoader.Parse(
            "models:\n  - alias: a\n    provider: azure\n    model: d\n", "t", _ => null));

        Assert.Contains("models[0].base_url: is required for provider 'azure'", ex.Errors);
    }
}
