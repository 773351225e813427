using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Tollgate.Metering;
using Tollgate.Optimization.ResponseCaching;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// Kept answers in the shared PostgreSQL database (<c>cache: exact: store: shared</c>): every replica serves what any
/// replica kept, and entries survive a restart. A read is one statement for any number of keys (an embeddings batch's
/// items at once) that also marks the rows as used (at most once a second per row, so a hot answer is not rewritten on
/// every hit). The size limit is kept in least-recently-used order by an eviction pass that runs after a write, at most
/// once a second per replica: between passes the table may exceed the limit by what was written in that second.
/// Expired rows are never served and are deleted by the same pass.
/// </summary>
public sealed class PostgresResponseCacheStore(NpgsqlDataSource source, long maxBytes, TimeSpan ttl, TimeProvider time) : IResponseCacheStore
{
    private const string Columns = "key, tenant, alias, deployment, usage, source_request_id, created_ms, content_type, headers, body";

    /// <summary>How often a replica runs the eviction pass at most.</summary>
    public static readonly TimeSpan EvictionInterval = TimeSpan.FromSeconds(1);

    private long _lastEvictionMs;
    private int _evicting;

    public async ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var answers = new CachedAnswer?[keys.Count];
        if (keys.Count == 0)
        {
            return answers;
        }

        var nowMs = now.ToUnixTimeMilliseconds();
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            WITH hit AS (SELECT {Columns} FROM response_cache WHERE key = ANY($1) AND created_ms > $3),
            touched AS (UPDATE response_cache r SET used_ms = $2 FROM hit WHERE r.key = hit.key AND r.used_ms < $2 - 1000)
            SELECT {Columns} FROM hit
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = keys.Distinct(StringComparer.Ordinal).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = nowMs });
        command.Parameters.Add(new NpgsqlParameter { Value = nowMs - (long)ttl.TotalMilliseconds });
        var found = new Dictionary<string, CachedAnswer>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var answer = Read(reader);
                found[answer.Key] = answer;
            }
        }

        for (var i = 0; i < answers.Length; i++)
        {
            answers[i] = found.GetValueOrDefault(keys[i]);
        }

        return answers;
    }

    public async ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answers);

        // The last answer under a key wins (one statement cannot write a row twice), and one past the limit is not kept.
        var kept = answers.Where(a => a.Bytes <= maxBytes).GroupBy(a => a.Key, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        if (kept.Count == 0)
        {
            return;
        }

        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using (var connection = await source.OpenConnectionAsync(cancellationToken))
        await using (var command = new NpgsqlCommand($"""
            INSERT INTO response_cache ({Columns}, used_ms, bytes)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bytea[], $11::bigint[], $12::bigint[])
            ON CONFLICT (key) DO UPDATE SET tenant = EXCLUDED.tenant, alias = EXCLUDED.alias, deployment = EXCLUDED.deployment, usage = EXCLUDED.usage,
                source_request_id = EXCLUDED.source_request_id, created_ms = EXCLUDED.created_ms, content_type = EXCLUDED.content_type,
                headers = EXCLUDED.headers, body = EXCLUDED.body, used_ms = EXCLUDED.used_ms, bytes = EXCLUDED.bytes
            """, connection))
        {
            foreach (var column in new object[]
            {
                kept.Select(a => a.Key).ToArray(), kept.Select(a => a.Tenant).ToArray(), kept.Select(a => a.Alias).ToArray(),
                kept.Select(a => a.Deployment).ToArray(), kept.Select(a => JsonSerializer.Serialize(a.Usage)).ToArray(),
                kept.Select(a => a.SourceRequestId).ToArray(), kept.Select(a => a.CreatedAt.ToUnixTimeMilliseconds()).ToArray(),
                kept.Select(a => a.ContentType).ToArray(), kept.Select(a => JsonSerializer.Serialize(a.Headers.Select(h => new[] { h.Key, h.Value }))).ToArray(),
                kept.Select(a => a.Body).ToArray(), kept.Select(_ => nowMs).ToArray(), kept.Select(a => a.Bytes).ToArray(),
            })
            {
                command.Parameters.Add(new NpgsqlParameter { Value = column });
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await EvictAsync(nowMs, cancellationToken);
    }

    public async ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            DELETE FROM response_cache WHERE ($1::text IS NULL OR tenant = $1) AND ($2::text IS NULL OR alias = $2) AND ($3::bigint IS NULL OR created_ms < $3)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter.Tenant ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter.Alias ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = filter.OlderThan is { } age ? (now - age).ToUnixTimeMilliseconds() : DBNull.Value,
            NpgsqlDbType = NpgsqlDbType.Bigint,
        });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*), coalesce(sum(bytes), 0)::bigint FROM response_cache WHERE created_ms > $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)ttl.TotalMilliseconds });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>
    /// Deletes expired rows, then the least recently used past the size limit; at most once per
    /// <see cref="EvictionInterval"/> per replica, and never twice at once.
    /// </summary>
    private async ValueTask EvictAsync(long nowMs, CancellationToken cancellationToken)
    {
        if (nowMs - Interlocked.Read(ref _lastEvictionMs) < EvictionInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _evicting, 1, 0) != 0)
        {
            return;
        }

        try
        {
            Interlocked.Exchange(ref _lastEvictionMs, nowMs);
            await using var connection = await source.OpenConnectionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("DELETE FROM response_cache WHERE created_ms <= $1") { Parameters = { new() { Value = nowMs - (long)ttl.TotalMilliseconds } } },
                    new NpgsqlBatchCommand("""
                        WITH ranked AS (SELECT key, sum(bytes) OVER (ORDER BY used_ms DESC, key DESC) AS running FROM response_cache)
                        DELETE FROM response_cache r USING ranked WHERE r.key = ranked.key AND ranked.running > $1
                        """) { Parameters = { new() { Value = maxBytes } } },
                },
            };
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            Volatile.Write(ref _evicting, 0);
        }
    }

    private static CachedAnswer Read(NpgsqlDataReader reader)
    {
        var headers = JsonSerializer.Deserialize<string[][]>(reader.GetString(8)) ?? [];
        return new CachedAnswer(
            reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            JsonSerializer.Deserialize<Usage>(reader.GetString(4)) ?? Usage.None, reader.GetString(5),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)), reader.GetString(7),
            [.. headers.Where(h => h.Length == 2).Select(h => new KeyValuePair<string, string>(h[0], h[1]))], (byte[])reader.GetValue(9));
    }
}
