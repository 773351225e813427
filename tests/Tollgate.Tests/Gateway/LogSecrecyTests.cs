using System.Text;
using Microsoft.Extensions.Logging;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The gateway's own logs, at every level, never hold a provider key or the master key.</summary>
public sealed class LogSecrecyTests : GatewayWithFakeUpstream
{
    private readonly LogCapture _logs = new();

    protected override string Settings => "retries:\n  max_retries: 0\n";

    protected override void Configure(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
        builder.Logging.AddProvider(_logs);
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
    }

    [Fact]
    public async Task No_log_line_at_any_level_holds_the_provider_key_or_the_master_key_whatever_the_provider_does()
    {
        Upstream.EchoKeyInErrors = true;
        foreach (var (fault, status) in new[] { (FakeFault.ErrorStatus, 401), (FakeFault.ErrorStatus, 500), (FakeFault.ErrorStatus, 429), (FakeFault.BadJson, 0), (FakeFault.ConnectionReset, 0), (FakeFault.CutStream, 0) })
        {
            Upstream.Fault = fault;
            Upstream.FaultStatus = status;
            foreach (var stream in new[] { false, true })
            {
                using var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
                    "{\"model\":\"gpt-4o-mini\",\"stream\":" + (stream ? "true" : "false") + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"));
                await response.Content.ReadAsStringAsync();
            }
        }

        using var badKey = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        badKey.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sk-upstream-secret");
        await Gateway.Client.SendAsync(badKey);
        await Gateway.RecordsAsync(12);

        Assert.NotEmpty(_logs.Lines);
        Assert.DoesNotContain(_logs.Lines, line => line.Contains("sk-upstream-secret", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, line => line.Contains(TestGateway.MasterKey, StringComparison.Ordinal));
    }
}
