namespace Tollgate.Providers;

/// <summary>
/// Sends one request to a provider and turns what can go wrong before an answer into a <see cref="ProviderFailure"/>
/// value: the deployment's timeout, or a connection that could not be made. A client that left is not a failure of
/// the provider: its cancellation propagates.
/// </summary>
public static class UpstreamCall
{
    public static async Task<(HttpResponseMessage? Response, ProviderFailure? Failure)> SendAsync(
        HttpMessageInvoker invoker, HttpRequestMessage message, TimeSpan timeout, CancellationToken timeoutToken, CancellationToken clientToken)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        try
        {
            return (await invoker.SendAsync(message, timeoutToken), null);
        }
        catch (OperationCanceledException) when (!clientToken.IsCancellationRequested)
        {
            return (null, new ProviderFailure(ProviderFailureKind.Timeout, $"no answer within {timeout.TotalSeconds:0} s"));
        }
        catch (HttpRequestException ex)
        {
            return (null, new ProviderFailure(ProviderFailureKind.Unreachable, ex.Message));
        }
    }
}
