namespace Tollgate.Gateway.Pipeline;

/// <summary>Who is calling, as established by <see cref="Authenticator"/>: the master key, or a virtual key and its scopes. Never holds the secret.</summary>
public sealed record CallerIdentity(string KeyId, Policy.Keys.VirtualKey? Key = null)
{
    public bool IsMaster => Key is null;
}
