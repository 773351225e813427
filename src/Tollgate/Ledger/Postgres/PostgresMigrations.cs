using Npgsql;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// The PostgreSQL schema as numbered migrations, applied at start in order, each once: the applied versions are kept in
/// <c>tollgate_migrations</c>, and the whole run holds a transaction-scoped advisory lock, so two replicas starting
/// together apply each migration exactly once (the second waits, then finds it applied). A migration is never edited
/// once released; a change is a new one.
/// </summary>
public static class PostgresMigrations
{
    /// <summary>The advisory lock key every replica takes to migrate ("tollgate" in ASCII).</summary>
    private const long LockKey = 0x746F6C6C67617465;

    /// <summary>Version → SQL. Money is <c>numeric</c> (exact, any scale); times are Unix milliseconds.</summary>
    public static IReadOnlyList<(int Version, string Sql)> All { get; } =
    [
        (1, """
            CREATE TABLE usage_records (
                seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                id text PRIMARY KEY,
                ts_ms bigint NOT NULL,
                latency_ms double precision NOT NULL,
                ttfb_ms double precision,
                key_id text, user_id text, session_id text, cost_center text, feature text, project text, env text,
                tags jsonb NOT NULL,
                endpoint text NOT NULL, alias text NOT NULL, deployment text NOT NULL, provider text NOT NULL,
                upstream_model text NOT NULL, stream boolean NOT NULL, status text NOT NULL, http_status integer NOT NULL,
                attempts integer NOT NULL,
                input_tokens bigint, cached_input_tokens bigint, cache_write_tokens bigint, cache_write_1h_tokens bigint,
                output_tokens bigint, reasoning_tokens bigint, usage_estimated boolean NOT NULL, tool_calls text,
                cost_input numeric NOT NULL, cost_cached_input numeric NOT NULL, cost_cache_write numeric NOT NULL,
                cost_output numeric NOT NULL, cost_reasoning numeric NOT NULL, cost_total numeric,
                cache_savings_usd numeric, response_cache text, response_cache_similarity double precision, response_cache_saved_usd numeric,
                route_target text, route_reason text, route_reference_cost_usd numeric,
                batch_id text, batch_realtime_cost_usd numeric,
                price_source text NOT NULL, error text
            );
            CREATE INDEX ix_usage_records_ts ON usage_records (ts_ms);
            """),
        (2, """
            CREATE TABLE budget_periods (
                budget text NOT NULL, period_ms bigint NOT NULL,
                spent numeric NOT NULL, leased numeric NOT NULL,
                PRIMARY KEY (budget, period_ms));
            CREATE TABLE budget_leases (
                budget text NOT NULL, period_ms bigint NOT NULL, replica text NOT NULL, amount numeric NOT NULL,
                PRIMARY KEY (budget, period_ms, replica));
            """),
        (3, """
            CREATE SEQUENCE virtual_keys_version;
            CREATE TABLE virtual_keys (
                id text PRIMARY KEY, name text NOT NULL, prefix text NOT NULL, hash text NOT NULL UNIQUE,
                created_ms bigint NOT NULL, expires_ms bigint, revoked_ms bigint,
                allowed_models text NOT NULL, max_tokens_cap integer, tags text NOT NULL, lock_tags boolean NOT NULL,
                rpm integer, tpm integer, default_max_tokens integer,
                version bigint NOT NULL);
            CREATE INDEX ix_virtual_keys_version ON virtual_keys (version);
            """),
        (4, """
            CREATE TABLE rate_windows (subject text NOT NULL, minute_ms bigint NOT NULL, used bigint NOT NULL, PRIMARY KEY (subject, minute_ms));
            """),
        (5, """
            CREATE SEQUENCE admin_budgets_version;
            CREATE TABLE admin_budgets (
                name text PRIMARY KEY, scope text NOT NULL, value text, period text NOT NULL, limit_usd numeric NOT NULL,
                hard boolean NOT NULL, allow_unpriced boolean NOT NULL, version bigint NOT NULL);
            """),
        (6, """
            CREATE TABLE idempotent_responses (
                caller text NOT NULL, key text NOT NULL, fingerprint bytea NOT NULL, request_id text NOT NULL,
                created_ms bigint NOT NULL, status integer NOT NULL, content_type text NOT NULL, headers text NOT NULL, body bytea NOT NULL,
                PRIMARY KEY (caller, key));
            CREATE INDEX ix_idempotent_responses_created ON idempotent_responses (created_ms);
            """),
        (7, PostgresRollups.Schema),
        (8, """
            CREATE TABLE budget_alerts (
                budget text NOT NULL, period_ms bigint NOT NULL, threshold integer NOT NULL, replica text NOT NULL,
                PRIMARY KEY (budget, period_ms, threshold));
            """),
        (9, """
            CREATE TABLE batch_files (
                id text PRIMARY KEY, deployment text NOT NULL, caller text NOT NULL, created_ms bigint NOT NULL,
                alias text, url text, requests integer, worst_case_usd numeric, unbounded text);
            CREATE TABLE batches (
                id text PRIMARY KEY, deployment text NOT NULL, alias text NOT NULL, provider text NOT NULL, model text NOT NULL,
                caller text NOT NULL, attribution text NOT NULL, url text NOT NULL, reserved_usd numeric NOT NULL,
                status text NOT NULL, object text NOT NULL, created_ms bigint NOT NULL, next_poll_ms bigint NOT NULL,
                poll_delay_ms bigint NOT NULL, settled boolean NOT NULL, api text NOT NULL, spent_usd numeric NOT NULL, holder text);
            CREATE INDEX ix_batches_open ON batches (next_poll_ms) WHERE NOT settled;
            CREATE INDEX ix_batches_list ON batches (api, created_ms, id);
            """),
        (10, """
            CREATE TABLE response_owners (id text PRIMARY KEY, deployment text NOT NULL, caller text NOT NULL, created_ms bigint NOT NULL);
            """),
        (11, """
            CREATE TABLE idempotency_claims (caller text NOT NULL, key text NOT NULL, holder text NOT NULL, claimed_ms bigint NOT NULL, PRIMARY KEY (caller, key));
            """),
        (12, """
            CREATE TABLE spend_anomalies (
                kind text NOT NULL, dimension text NOT NULL, value text NOT NULL, period text NOT NULL,
                cost_usd numeric NOT NULL, baseline_usd numeric NOT NULL, detected_ms bigint NOT NULL,
                PRIMARY KEY (kind, dimension, value, period));
            CREATE TABLE outcomes (
                id text PRIMARY KEY, ts_ms bigint NOT NULL, request_id text, user_id text, feature text,
                conversions bigint NOT NULL, revenue_usd numeric NOT NULL, key_id text NOT NULL);
            CREATE INDEX ix_outcomes_ts ON outcomes (ts_ms);
            """),
        (13, """
            ALTER TABLE usage_records ADD COLUMN max_output_tokens bigint, ADD COLUMN prompt_prefix_hash text,
                ADD COLUMN prompt_prefix_tokens bigint, ADD COLUMN request_hash text, ADD COLUMN upstream_request_id text;
            """),
        (14, """
            CREATE TABLE sent_alerts (kind text NOT NULL, subject text NOT NULL, period text NOT NULL, sent_ms bigint NOT NULL, PRIMARY KEY (kind, subject, period));
            """),
        (15, """
            ALTER TABLE usage_records ADD COLUMN question_hash text;
            """),
        (16, """
            ALTER TABLE usage_records ADD COLUMN prompt_chars bigint, ADD COLUMN prompt_shape integer, ADD COLUMN prompt_vector bytea;
            """),
        (17, """
            CREATE TABLE response_cache (
                key text PRIMARY KEY, tenant text NOT NULL, alias text NOT NULL, deployment text NOT NULL, usage text NOT NULL,
                source_request_id text NOT NULL, created_ms bigint NOT NULL, used_ms bigint NOT NULL, content_type text NOT NULL,
                headers text NOT NULL, body bytea NOT NULL, bytes bigint NOT NULL);
            CREATE INDEX ix_response_cache_used ON response_cache (used_ms);
            """),
        (18, """
            CREATE TABLE semantic_questions (
                id bigserial PRIMARY KEY, replica text NOT NULL, context text NOT NULL, vector bytea NOT NULL, question bytea NOT NULL,
                exact_key text NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE INDEX ix_semantic_questions_written ON semantic_questions (written_at);
            CREATE TABLE semantic_evidence (alias text NOT NULL, bin integer NOT NULL, verified bigint NOT NULL, wrong bigint NOT NULL, PRIMARY KEY (alias, bin));
            """),
        (19, """
            CREATE TABLE semantic_wrong_marks (
                context text NOT NULL, exact_key text NOT NULL, wrong_at double precision NOT NULL,
                marked_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (context, exact_key));
            CREATE INDEX ix_semantic_wrong_marks_marked ON semantic_wrong_marks (marked_at);
            """),
    ];

    /// <summary>Applies the migrations this database lacks; safe to run from several replicas at once.</summary>
    public static async Task<int> ApplyAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        await Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS tollgate_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
        var applied = new HashSet<int>();
        await using (var read = new NpgsqlCommand("SELECT version FROM tollgate_migrations", connection, transaction))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var count = 0;
        foreach (var (version, sql) in All.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
        {
            await Execute(connection, transaction, sql, cancellationToken);
            await Execute(connection, transaction, $"INSERT INTO tollgate_migrations (version) VALUES ({version})", cancellationToken);
            count++;
        }

        await transaction.CommitAsync(cancellationToken);
        return count;
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
