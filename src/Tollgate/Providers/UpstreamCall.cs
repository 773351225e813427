using Tollgate.Configuration;

namespace Tollgate.Providers;

/// <summary>
/// Sends one request to a provider and turns what can go wrong before an answer into a <see cref="ProviderFailure"/>
/// value: a timeout, or a connection that could not be made or was dropped. A client that left is not a failure of
/// the provider: its cancellation propagates.
/// </summary>
public static class UpstreamCall
{
    public static async Task<(HttpResponseMessage? Response, ProviderFailure? Failure)> SendAsync(
        HttpMessageInvoker invoker, HttpRequestMessage message, DeploymentConfig deployment, AttemptTimer timer, CancellationToken clientToken)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(timer);
        if (deployment.Timeouts.Connect != UpstreamHttp.DefaultConnectTimeout)
        {
            // Only a timeout other than the default travels with the request (the options dictionary costs an allocation).
            message.Options.Set(UpstreamHttp.ConnectTimeout, deployment.Timeouts.Connect);
        }
        try
        {
            var response = await invoker.SendAsync(message, timer.Token);
            timer.Answered();
            return (response, null);
        }
        catch (OperationCanceledException) when (!clientToken.IsCancellationRequested)
        {
            return (null, new ProviderFailure(ProviderFailureKind.Timeout, timer.Describe()));
        }
        catch (HttpRequestException ex)
        {
            return (null, new ProviderFailure(ProviderFailureKind.Unreachable, ex.Message));
        }
    }
}
