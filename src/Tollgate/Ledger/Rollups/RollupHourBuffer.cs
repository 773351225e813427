namespace Tollgate.Ledger.Rollups;

/// <summary>
/// Takes one dimension's rollup rows as an engine reads them, in hour order, and hands them on an hour at a time once the
/// hour is known to be complete: an hour with an overflow row (<see cref="RollupDimensions.MoreValues"/>), or one already
/// in <paramref name="incomplete"/>, is not handed on but added there, to be read raw. The sums are kept as raw bytes
/// until then and decoded into one reused <see cref="RollupTotals"/> (the handler adds it up and keeps no reference):
/// a month of hourly rows by user is hundreds of thousands of them.
/// </summary>
public sealed class RollupHourBuffer(HashSet<long> incomplete, Action<long, string, RollupTotals> onRow)
{
    private readonly List<(string Value, int Offset, int Length)> _pending = [];
    private readonly RollupTotals _scratch = new();
    private byte[] _bytes = new byte[64 * 1024];
    private int _used;
    private long _current = long.MinValue;
    private bool _overflowed;

    public void Add(long hour, string value, ReadOnlySpan<byte> sums)
    {
        if (hour != _current)
        {
            Flush();
            _current = hour;
        }

        if (value == RollupDimensions.MoreValues)
        {
            _overflowed = true;
            return;
        }

        if (_used + sums.Length > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + sums.Length));
        }

        sums.CopyTo(_bytes.AsSpan(_used));
        _pending.Add((value, _used, sums.Length));
        _used += sums.Length;
    }

    /// <summary>Hands on (or sets aside) the last hour read.</summary>
    public void Flush()
    {
        if (_current == long.MinValue)
        {
            return;
        }

        if (_overflowed || incomplete.Contains(_current))
        {
            incomplete.Add(_current);
        }
        else
        {
            foreach (var (value, offset, length) in _pending)
            {
                RollupTotalsCodec.ReadInto(_bytes.AsSpan(offset, length), _scratch);
                onRow(_current, value, _scratch);
            }
        }

        _pending.Clear();
        _used = 0;
        _overflowed = false;
        _current = long.MinValue;
    }
}
