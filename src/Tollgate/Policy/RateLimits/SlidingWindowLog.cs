namespace Tollgate.Policy.RateLimits;

/// <summary>
/// An exact sliding-window limit: every admission is logged with its time and weight (1 for requests, tokens for
/// TPM), and a new one is admitted only if the weight of the last window plus its own stays within the limit. So no
/// window of that length, wherever it starts, ever holds more than the limit. A refusal says when enough will have
/// aged out.
/// </summary>
public sealed class SlidingWindowLog(long limit, TimeSpan window)
{
    private readonly LinkedList<Entry> _log = new();
    private readonly Lock _gate = new();
    private long _total;

    public long Limit { get; } = limit;

    /// <summary>Admits <paramref name="weight"/> at <paramref name="now"/>, or says how long until it would fit.</summary>
    public (Ticket? Ticket, TimeSpan RetryAfter) TryAcquire(DateTimeOffset now, long weight)
    {
        lock (_gate)
        {
            Expire(now);
            if (_total + weight <= Limit || (_log.Count == 0 && weight > Limit))
            {
                var node = _log.AddLast(new Entry(now, weight));
                _total += weight;
                return (new Ticket(this, node), TimeSpan.Zero);
            }

            // The oldest entries whose expiry frees enough room decide when to come back.
            var needed = _total + weight - Limit;
            var freed = 0L;
            foreach (var entry in _log)
            {
                freed += entry.Weight;
                if (freed >= needed)
                {
                    return (null, entry.At + window - now);
                }
            }

            return (null, window);
        }
    }

    /// <summary>Replaces an admission's estimated weight by the actual one (TPM: real usage after the call).</summary>
    internal void Correct(LinkedListNode<Entry> node, long actual)
    {
        lock (_gate)
        {
            if (node.List is null)
            {
                return;
            }

            _total += actual - node.Value.Weight;
            node.Value = node.Value with { Weight = actual };
        }
    }

    internal void Release(LinkedListNode<Entry> node)
    {
        lock (_gate)
        {
            if (node.List is null)
            {
                return;
            }

            _total -= node.Value.Weight;
            _log.Remove(node);
        }
    }

    private void Expire(DateTimeOffset now)
    {
        while (_log.First is { } first && first.Value.At <= now - window)
        {
            _total -= first.Value.Weight;
            _log.RemoveFirst();
        }
    }

    internal sealed record Entry(DateTimeOffset At, long Weight);

    /// <summary>One admission, to correct with its actual weight.</summary>
    public sealed class Ticket
    {
        private readonly SlidingWindowLog _log;
        private readonly LinkedListNode<Entry> _node;

        internal Ticket(SlidingWindowLog log, LinkedListNode<Entry> node)
        {
            _log = log;
            _node = node;
        }

        public void Correct(long actual) => _log.Correct(_node, actual);

        /// <summary>Takes the admission back (the request was refused by another limit).</summary>
        public void Release() => _log.Release(_node);
    }
}
