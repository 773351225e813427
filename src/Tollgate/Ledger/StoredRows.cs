using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Tollgate.Analytics.UnitEconomics;
using Tollgate.Batches;

namespace Tollgate.Ledger;

/// <summary>
/// Rows both storage engines keep with the same columns in the same order, read into their records once for both:
/// money is <c>numeric</c> in PostgreSQL and invariant text in SQLite, flags are <c>boolean</c> or 0/1 — read here
/// through their values, so either engine's reader gives the same record.
/// </summary>
public static class StoredRows
{
    /// <summary>The columns of a batch row, in the order <see cref="Batch"/> reads them.</summary>
    public const string BatchColumns =
        "id, deployment, alias, provider, model, caller, attribution, url, reserved_usd, status, object, created_ms, next_poll_ms, poll_delay_ms, settled, api, spent_usd, holder";

    /// <summary>The columns of an outcome row, in the order <see cref="Outcome"/> reads them.</summary>
    public const string OutcomeColumns = "id, ts_ms, request_id, user_id, feature, conversions, revenue_usd, key_id";

    public static TrackedBatch Batch(DbDataReader row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new TrackedBatch
        {
            Id = row.GetString(0),
            Deployment = row.GetString(1),
            Alias = row.GetString(2),
            Provider = row.GetString(3),
            Model = row.GetString(4),
            Caller = row.GetString(5),
            Attribution = JsonSerializer.Deserialize<Attribution>(row.GetString(6))!,
            Url = row.GetString(7),
            ReservedUsd = Money(row, 8),
            Status = row.GetString(9),
            Object = row.GetString(10),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(11)),
            NextPollAt = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(12)),
            PollDelay = TimeSpan.FromMilliseconds(row.GetInt64(13)),
            Settled = Convert.ToBoolean(row.GetValue(14), CultureInfo.InvariantCulture),
            Api = row.GetString(15),
            SpentUsd = row.IsDBNull(16) ? 0 : Money(row, 16),
            Holder = Text(row, 17),
        };
    }

    public static Outcome Outcome(DbDataReader row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new Outcome(
            row.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(1)), Text(row, 2), Text(row, 3), Text(row, 4),
            row.GetInt64(5), Money(row, 6), row.GetString(7));
    }

    /// <summary>A sum of money as either engine keeps it.</summary>
    public static decimal Money(DbDataReader row, int ordinal) =>
        row?.GetValue(ordinal) is string text ? decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture) : row!.GetDecimal(ordinal);

    private static string? Text(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);
}
