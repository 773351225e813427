namespace Tollgate.Metering;

/// <summary>
/// Shares out the hourly price of a self-hosted deployment (a rented GPU) over the requests it served.
/// Each moment of GPU time is split equally among the requests in flight at that moment: one request alone for
/// 2 s costs 2 s of the hour; two requests overlapping for those 2 s cost 1 s each. Idle time is charged to no
/// request. This is the "virtual clock" of processor sharing: the clock advances at rate / in-flight, and a
/// request costs the clock's advance between its start and its end.
/// </summary>
public sealed class HourlyCostAllocator
{
    private const decimal TicksPerHour = TimeSpan.TicksPerHour;

    private readonly decimal _usdPerHour;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _lastTimestamp;
    private int _inFlight;
    private decimal _virtualClockUsd;

    public HourlyCostAllocator(decimal usdPerHour, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _usdPerHour = usdPerHour;
        _time = time;
        _lastTimestamp = time.GetTimestamp();
    }

    /// <summary>Marks a request as started; pass the returned mark to <see cref="End"/>.</summary>
    public decimal Begin()
    {
        lock (_gate)
        {
            Advance();
            _inFlight++;
            return _virtualClockUsd;
        }
    }

    /// <summary>Marks a request as finished and returns its share of the hourly price in USD.</summary>
    public decimal End(decimal beginMark)
    {
        lock (_gate)
        {
            Advance();
            _inFlight = Math.Max(0, _inFlight - 1);
            return _virtualClockUsd - beginMark;
        }
    }

    private void Advance()
    {
        var now = _time.GetTimestamp();
        if (_inFlight > 0)
        {
            var elapsedTicks = (decimal)_time.GetElapsedTime(_lastTimestamp, now).Ticks;
            _virtualClockUsd += _usdPerHour * elapsedTicks / TicksPerHour / _inFlight;
        }

        _lastTimestamp = now;
    }
}
