using Tollgate.Configuration;

namespace Tollgate.Gateway.Forwarding;

/// <summary>
/// One deployment's health. Closed: calls pass. After <see cref="BreakerSettings.Failures"/> failures in a row it
/// opens: calls are refused (and go to a fallback) for <see cref="BreakerSettings.OpenFor"/>. Then exactly one call
/// is let through as a probe; its success closes the circuit, its failure opens it for another interval.
/// </summary>
public sealed class CircuitBreaker(BreakerSettings settings, TimeProvider time)
{
    private readonly Lock _gate = new();
    private int _failures;
    private CircuitState _state = CircuitState.Closed;
    private DateTimeOffset _openedAt;

    public CircuitState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Whether a call may go to this deployment now; true for at most one probe per open interval.</summary>
    public bool TryPass()
    {
        lock (_gate)
        {
            switch (_state)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.Open when time.GetUtcNow() - _openedAt >= settings.OpenFor:
                    _state = CircuitState.Probing;
                    return true;
                default:
                    return false;
            }
        }
    }

    /// <summary>The deployment answered (any answer that is not a 429 or 5xx counts: it is up).</summary>
    public void Succeeded()
    {
        lock (_gate)
        {
            _failures = 0;
            _state = CircuitState.Closed;
        }
    }

    /// <summary>A call that passed ended without telling anything about the deployment (the client left): a probe is given back.</summary>
    public void Abandoned()
    {
        lock (_gate)
        {
            if (_state == CircuitState.Probing)
            {
                _state = CircuitState.Open;
            }
        }
    }

    /// <summary>When the next probe may go, while the circuit is open.</summary>
    public DateTimeOffset? OpenUntil
    {
        get
        {
            lock (_gate)
            {
                return _state == CircuitState.Closed ? null : _openedAt + settings.OpenFor;
            }
        }
    }

    public void Failed()
    {
        lock (_gate)
        {
            _failures++;
            if (_state == CircuitState.Probing || (_state == CircuitState.Closed && _failures >= settings.Failures))
            {
                _state = CircuitState.Open;
                _openedAt = time.GetUtcNow();
            }
        }
    }
}

public enum CircuitState
{
    Closed,
    Open,

    /// <summary>One probe call is out; others are refused until it reports.</summary>
    Probing,
}
