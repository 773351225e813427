namespace Tollgate.Providers;

/// <summary>
/// One provider's wire format. Each adapter turns a <see cref="ProviderRequest"/> into the provider's request,
/// and the provider's answer back into the OpenAI format plus canonical usage. Failures are values, not exceptions.
/// </summary>
public interface IProviderAdapter
{
    /// <summary>Whether this adapter can serve requests made to <paramref name="endpoint"/>.</summary>
    bool Supports(GatewayEndpoint endpoint);

    /// <summary>Sends a non-streamed request; the reply is returned whole.</summary>
    Task<ProviderResult<UpstreamReply>> SendAsync(ProviderRequest request, CancellationToken cancellationToken);

    /// <summary>Sends a streamed request and relays every event to <paramref name="sink"/> as it arrives.</summary>
    Task<ProviderResult<StreamOutcome>> StreamAsync(ProviderRequest request, IStreamSink sink, CancellationToken cancellationToken);
}

/// <summary>Either a value or a <see cref="ProviderFailure"/> that happened before any answer.</summary>
public readonly record struct ProviderResult<T>(T? Value, ProviderFailure? Failure)
    where T : class
{
    public static implicit operator ProviderResult<T>(T value) => new(value, null);

    public static implicit operator ProviderResult<T>(ProviderFailure failure) => new(null, failure);
}
