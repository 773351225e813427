using Tollgate.Configuration;

namespace Tollgate.Providers;

/// <summary>
/// Sends one request to a provider and turns what can go wrong before an answer into a <see cref="ProviderFailure"/>
/// value: a timeout, or a connection that could not be made or was dropped. A client that left is not a failure of
/// the provider: its cancellation propagates. The caller awaits the send itself (one async frame less per call).
/// </summary>
public static class UpstreamCall
{
    /// <summary>Starts sending <paramref name="message"/>; what can go wrong is read by <see cref="FailureOf"/>.</summary>
    public static Task<HttpResponseMessage> Start(HttpMessageInvoker invoker, HttpRequestMessage message, DeploymentConfig deployment, AttemptTimer timer)
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

        return invoker.SendAsync(message, timer.Token);
    }

    /// <summary>
    /// What went wrong before an answer, as a value; null when the exception is not the provider's doing (the client
    /// left: its cancellation propagates).
    /// </summary>
    public static ProviderFailure? FailureOf(Exception exception, AttemptTimer timer, CancellationToken clientToken)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(timer);
        return exception switch
        {
            OperationCanceledException when !clientToken.IsCancellationRequested => new ProviderFailure(ProviderFailureKind.Timeout, timer.Describe()),
            HttpRequestException http => new ProviderFailure(ProviderFailureKind.Unreachable, http.Message),
            _ => null,
        };
    }
}
