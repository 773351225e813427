namespace Tollgate.Analytics.Anomalies;

/// <summary>Priced spend on one value of one dimension at one time: a raw record's cost, or a rolled-up hour's (at its start).</summary>
public readonly record struct SpendPoint(string Dimension, string Value, DateTimeOffset At, decimal Cost);
