using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Tollgate.Optimization.SemanticCaching;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// The semantic cache's shared state in PostgreSQL: <c>semantic_questions</c> (one row per question a replica
/// remembered, stamped with the database's clock when written; the question's text as UTF-8 bytes, so that a client's
/// NUL character or lone surrogate, which a <c>text</c> column refuses, cannot make a batch of other questions fail), <c>semantic_evidence</c> (the bounded mode's
/// verifications per alias and bin of 0.01, added to by every replica) and <c>semantic_wrong_marks</c> (per kept question,
/// the highest similarity at which its answer was verified wrong, stamped with the database's clock when raised).
/// </summary>
public sealed class PostgresSemanticCacheShare(NpgsqlDataSource source, string replica) : ISemanticCacheShare
{
    public async Task AppendAsync(IReadOnlyList<SharedQuestion> questions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(questions);
        if (questions.Count == 0)
        {
            return;
        }

        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO semantic_questions (replica, context, vector, question, exact_key)
            SELECT $1, * FROM unnest($2::text[], $3::bytea[], $4::bytea[], $5::text[])
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = replica });
        command.Parameters.Add(new NpgsqlParameter { Value = questions.Select(q => q.Context).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = questions.Select(q => MemoryMarshal.AsBytes(q.Vector.AsSpan()).ToArray()).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = questions.Select(q => Encoding.UTF8.GetBytes(q.Text)).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = questions.Select(q => q.ExactKey).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<SharedQuestion> Questions, DateTimeOffset Cursor)> ReadAsync(
        DateTimeOffset? cursor, IReadOnlyCollection<long> skip, TimeSpan maxAge, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(cursor is null
            ? """
                SELECT * FROM (SELECT id, context, vector, question, exact_key, written_at FROM semantic_questions
                    WHERE written_at > clock_timestamp() - $1::interval ORDER BY written_at DESC, id DESC LIMIT $2) newest
                ORDER BY written_at, id
                """
            : """
                SELECT id, context, vector, question, exact_key, written_at FROM semantic_questions
                WHERE written_at > clock_timestamp() - $1::interval AND written_at > $3 AND replica <> $4 AND NOT (id = ANY($5))
                ORDER BY written_at, id LIMIT $2
                """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = maxAge, NpgsqlDbType = NpgsqlDbType.Interval });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        if (cursor is { } after)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = after - ISemanticCacheShare.ReadBehind, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = replica });
            command.Parameters.Add(new NpgsqlParameter { Value = skip.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        }

        var questions = new List<SharedQuestion>();
        var latest = cursor ?? DateTimeOffset.UnixEpoch;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var bytes = (byte[])reader.GetValue(2);
            var written = reader.GetFieldValue<DateTimeOffset>(5);
            questions.Add(new SharedQuestion(reader.GetInt64(0), reader.GetString(1), MemoryMarshal.Cast<byte, float>(bytes).ToArray(), Encoding.UTF8.GetString((byte[])reader.GetValue(3)), reader.GetString(4)) { WrittenAt = written });
            latest = written > latest ? written : latest;
        }

        return (questions, latest);
    }

    public async Task PruneAsync(TimeSpan maxAge, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        foreach (var sql in (string[])[
            "DELETE FROM semantic_questions WHERE written_at <= clock_timestamp() - $1::interval",
            "DELETE FROM semantic_wrong_marks WHERE marked_at <= clock_timestamp() - $1::interval"])
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = maxAge, NpgsqlDbType = NpgsqlDbType.Interval });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<IReadOnlyDictionary<string, WrongHitBound.Evidence>> ExchangeEvidenceAsync(
        IReadOnlyDictionary<string, WrongHitBound.Evidence> added, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(added);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        var rows = added.SelectMany(a => Enumerable.Range(0, WrongHitBound.Bins)
            .Where(bin => a.Value.Verified[bin] > 0)
            .Select(bin => (Alias: a.Key, Bin: bin, Verified: a.Value.Verified[bin], Wrong: a.Value.Wrong[bin]))).ToList();
        if (rows.Count > 0)
        {
            await using var add = new NpgsqlCommand("""
                INSERT INTO semantic_evidence (alias, bin, verified, wrong)
                SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[])
                ON CONFLICT (alias, bin) DO UPDATE SET verified = semantic_evidence.verified + EXCLUDED.verified, wrong = semantic_evidence.wrong + EXCLUDED.wrong
                """, connection);
            add.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Alias).ToArray() });
            add.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Bin).ToArray() });
            add.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Verified).ToArray() });
            add.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Wrong).ToArray() });
            await add.ExecuteNonQueryAsync(cancellationToken);
        }

        var totals = new Dictionary<string, WrongHitBound.Evidence>(StringComparer.Ordinal);
        await using var read = new NpgsqlCommand("SELECT alias, bin, verified, wrong FROM semantic_evidence", connection);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var bin = reader.GetInt32(1);
            if (bin is < 0 or >= WrongHitBound.Bins)
            {
                continue;
            }

            var alias = reader.GetString(0);
            if (!totals.TryGetValue(alias, out var evidence))
            {
                totals[alias] = evidence = WrongHitBound.Evidence.None();
            }

            evidence.Verified[bin] = reader.GetInt64(2);
            evidence.Wrong[bin] = reader.GetInt64(3);
        }

        return totals;
    }

    public async Task<(IReadOnlyList<WrongMark> Marks, DateTimeOffset Cursor)> ExchangeWrongMarksAsync(
        IReadOnlyList<WrongMark> added, DateTimeOffset? since, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(added);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        if (added.Count > 0)
        {
            // One row per question; a mark only rises, and its time moves only when it does, so readers see each rise.
            await using var add = new NpgsqlCommand("""
                INSERT INTO semantic_wrong_marks (context, exact_key, wrong_at)
                SELECT context, exact_key, max(wrong_at) FROM unnest($1::text[], $2::text[], $3::double precision[]) AS m (context, exact_key, wrong_at)
                GROUP BY context, exact_key
                ON CONFLICT (context, exact_key) DO UPDATE SET wrong_at = EXCLUDED.wrong_at, marked_at = clock_timestamp()
                WHERE semantic_wrong_marks.wrong_at < EXCLUDED.wrong_at
                """, connection);
            add.Parameters.Add(new NpgsqlParameter { Value = added.Select(m => m.Context).ToArray() });
            add.Parameters.Add(new NpgsqlParameter { Value = added.Select(m => m.ExactKey).ToArray() });
            add.Parameters.Add(new NpgsqlParameter { Value = added.Select(m => m.WrongAt).ToArray() });
            await add.ExecuteNonQueryAsync(cancellationToken);
        }

        // The next read starts from before this one (less the read-behind), by the database's clock: a mark raised in a
        // transaction that commits after this read is still found; a mark read twice is applied twice, to no effect.
        await using var clock = new NpgsqlCommand("SELECT clock_timestamp()", connection);
        var cursor = new DateTimeOffset((DateTime)(await clock.ExecuteScalarAsync(cancellationToken))!, TimeSpan.Zero);
        await using var read = new NpgsqlCommand("""
            SELECT context, exact_key, wrong_at FROM semantic_wrong_marks
            WHERE marked_at > clock_timestamp() - $1::interval AND marked_at > $2 ORDER BY marked_at
            """, connection);
        read.Parameters.Add(new NpgsqlParameter { Value = maxAge, NpgsqlDbType = NpgsqlDbType.Interval });
        read.Parameters.Add(new NpgsqlParameter
        {
            Value = since is { } after ? after - ISemanticCacheShare.ReadBehind : DateTimeOffset.UnixEpoch,
            NpgsqlDbType = NpgsqlDbType.TimestampTz,
        });
        var marks = new List<WrongMark>();
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            marks.Add(new WrongMark(reader.GetString(0), reader.GetString(1), reader.GetDouble(2)));
        }

        return (marks, cursor);
    }
}
