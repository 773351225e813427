namespace Tollgate.Ledger.Rollups;

/// <summary>One rollup row's place: a dimension, an hour (since the Unix epoch) and the value on that dimension.</summary>
public readonly record struct RollupRowKey(string Dimension, long Hour, string Value);
