namespace Tollgate.Gateway;

/// <summary>
/// This gateway's lasting name among replicas, kept in its data folder so that it survives a restart: the shared
/// store knows by it which budget room a replica leased and which batches' holds it keeps.
/// </summary>
public sealed record ReplicaIdentity(string Id)
{
    /// <summary>The name kept in <paramref name="dataDirectory"/>, made on first use.</summary>
    public static ReplicaIdentity Of(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, "replica-id");
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } known)
        {
            return new ReplicaIdentity(known);
        }

        var id = Environment.MachineName + "-" + Guid.NewGuid().ToString("N")[..12];
        File.WriteAllText(path, id);
        return new ReplicaIdentity(id);
    }
}
