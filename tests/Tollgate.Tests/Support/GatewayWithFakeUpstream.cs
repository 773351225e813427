using Tollgate.FakeProviders;
using Xunit;

namespace Tollgate.Tests.Support;

/// <summary>A fake OpenAI upstream and a gateway in front of it, fresh for every test.</summary>
public abstract class GatewayWithFakeUpstream : IAsyncLifetime
{
    private FakeOpenAiUpstream? _upstream;
    private TestGateway? _gateway;

    internal FakeOpenAiUpstream Upstream => _upstream ?? throw new InvalidOperationException("not started");

    internal TestGateway Gateway => _gateway ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(Settings + "models:\n" + Models(_upstream.BaseUrl), configure: Configure);
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    /// <summary>Changes to the gateway's host before it is built; none by default.</summary>
    protected virtual void Configure(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
    }

    /// <summary>Top-level settings written before <c>models:</c>.</summary>
    protected virtual string Settings => string.Empty;

    /// <summary>The gateway's deployments; by default one alias <c>gpt-4o-mini</c> on the fake upstream.</summary>
    protected virtual string Models(Uri upstream) => TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream);
}
