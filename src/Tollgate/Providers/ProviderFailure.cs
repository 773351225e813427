namespace Tollgate.Providers;

/// <summary>Why a provider could not be reached or stopped answering: an error value, mapped to a status in one place.</summary>
public sealed record ProviderFailure(ProviderFailureKind Kind, string Message)
{
    /// <summary>When the client may try again, if the gateway knows.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

public enum ProviderFailureKind
{
    /// <summary>The connection could not be made, or was reset before a whole answer.</summary>
    Unreachable,

    /// <summary>The deployment's timeout passed.</summary>
    Timeout,

    /// <summary>A stream stopped before its end marker.</summary>
    StreamCut,

    /// <summary>The client went away.</summary>
    ClientCancelled,

    /// <summary>The request cannot be expressed in the provider's format; it was not sent.</summary>
    Rejected,

    /// <summary>Every deployment that could serve the request has its circuit open; nothing was sent.</summary>
    Unavailable,

    /// <summary>Every deployment that could serve the request is at its own <c>rpm</c>/<c>tpm</c>; nothing was sent.</summary>
    RateLimited,
}
