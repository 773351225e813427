namespace Tollgate.Policy.RateLimits;

/// <summary>
/// An exact sliding-window limit: every admission is logged with its time and weight (1 for requests, tokens for
/// TPM), and a new one is admitted only if the weight of the last window plus its own stays within the limit. So no
/// window of that length, wherever it starts, ever holds more than the limit. A refusal says when enough will have
/// aged out.
/// </summary>
/// <remarks>
/// The log is a ring of plain structs, oldest first, addressed by a running sequence number: at thousands of requests
/// a second a minute's admissions are hundreds of thousands of entries, which as objects would live a minute each and
/// be promoted through the garbage collector's generations; as array slots they cost it nothing. A taken-back
/// admission stays in the ring with no weight until it ages out.
/// </remarks>
public sealed class SlidingWindowLog(long limit, TimeSpan window)
{
    private readonly Lock _gate = new();
    private readonly long _windowTicks = window.Ticks;
    private Entry[] _ring = new Entry[64];
    private long _oldest;
    private long _next;
    private long _total;

    public long Limit { get; } = limit;

    /// <summary>Admits <paramref name="weight"/> at <paramref name="now"/>, or says how long until it would fit.</summary>
    public (Ticket? Ticket, TimeSpan RetryAfter) TryAcquire(DateTimeOffset now, long weight)
    {
        var at = now.UtcTicks;
        lock (_gate)
        {
            Expire(at);
            if (_total + weight <= Limit || (_oldest == _next && weight > Limit))
            {
                if (_next - _oldest == _ring.Length)
                {
                    Grow();
                }

                var sequence = _next++;
                _ring[sequence & (_ring.Length - 1)] = new Entry(at, weight, Taken: true);
                _total += weight;
                return (new Ticket(this, sequence), TimeSpan.Zero);
            }

            // The oldest entries whose expiry frees enough room decide when to come back.
            var needed = _total + weight - Limit;
            var freed = 0L;
            for (var sequence = _oldest; sequence < _next; sequence++)
            {
                ref readonly var entry = ref _ring[sequence & (_ring.Length - 1)];
                freed += entry.Weight;
                if (freed >= needed)
                {
                    return (null, TimeSpan.FromTicks(entry.At + _windowTicks - at));
                }
            }

            return (null, window);
        }
    }

    /// <summary>Replaces an admission's estimated weight by the actual one (TPM: real usage after the call).</summary>
    private void Correct(long sequence, long actual)
    {
        lock (_gate)
        {
            if (sequence < _oldest || !_ring[sequence & (_ring.Length - 1)].Taken)
            {
                return; // aged out of the window, or taken back
            }

            ref var entry = ref _ring[sequence & (_ring.Length - 1)];
            _total += actual - entry.Weight;
            entry = entry with { Weight = actual };
        }
    }

    private void Release(long sequence)
    {
        lock (_gate)
        {
            if (sequence < _oldest || !_ring[sequence & (_ring.Length - 1)].Taken)
            {
                return;
            }

            ref var entry = ref _ring[sequence & (_ring.Length - 1)];
            _total -= entry.Weight;
            entry = new Entry(entry.At, 0, Taken: false);
        }
    }

    private void Expire(long now)
    {
        while (_oldest < _next && _ring[_oldest & (_ring.Length - 1)].At <= now - _windowTicks)
        {
            _total -= _ring[_oldest & (_ring.Length - 1)].Weight;
            _oldest++;
        }
    }

    /// <summary>Doubles the ring, each live entry moving to its sequence number's slot in the larger one.</summary>
    private void Grow()
    {
        var larger = new Entry[_ring.Length * 2];
        for (var sequence = _oldest; sequence < _next; sequence++)
        {
            larger[sequence & (larger.Length - 1)] = _ring[sequence & (_ring.Length - 1)];
        }

        _ring = larger;
    }

    private readonly record struct Entry(long At, long Weight, bool Taken);

    /// <summary>One admission, to correct with its actual weight.</summary>
    public sealed class Ticket
    {
        private readonly SlidingWindowLog _log;
        private readonly long _sequence;

        internal Ticket(SlidingWindowLog log, long sequence)
        {
            _log = log;
            _sequence = sequence;
        }

        public void Correct(long actual) => _log.Correct(_sequence, actual);

        /// <summary>Takes the admission back (the request was refused by another limit).</summary>
        public void Release() => _log.Release(_sequence);
    }
}
