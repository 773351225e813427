namespace Tollgate.Providers;

/// <summary>Why a provider could not be reached or stopped answering: an error value, mapped to a status in one place.</summary>
public sealed record ProviderFailure(ProviderFailureKind Kind, string Message);

public enum ProviderFailureKind
{
    /// <summary>The connection could not be made or was reset before an answer.</summary>
    Unreachable,

    /// <summary>The deployment's timeout passed.</summary>
    Timeout,

    /// <summary>A stream stopped before its end marker.</summary>
    StreamCut,

    /// <summary>The client went away.</summary>
    ClientCancelled,

    /// <summary>The request cannot be expressed in the provider's format; it was not sent.</summary>
    Rejected,
}
