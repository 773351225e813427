namespace Tollgate.Gateway.Pipeline;

/// <summary>Who is calling, as established by <see cref="Authenticator"/>. Never holds the key itself.</summary>
public sealed record CallerIdentity(string KeyId);
