namespace Tollgate.Ledger.Rollups;

/// <summary>What keeping the rollups up to date has cost this process: records rolled up and time spent (in /metrics).</summary>
public sealed class RollupUpkeep
{
    private long _records;
    private long _ticks;

    public long Records => Interlocked.Read(ref _records);

    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public void Add(int records, TimeSpan elapsed)
    {
        Interlocked.Add(ref _records, records);
        Interlocked.Add(ref _ticks, elapsed.Ticks);
    }
}
