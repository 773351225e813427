using System.Diagnostics;
using Tollgate.Configuration;

namespace Tollgate.Providers;

/// <summary>
/// The timeouts of one call to a deployment as one cancellation token: first the wait for the response headers,
/// then the wait for each next piece of the body, all within the total. Says which one ran out.
/// </summary>
public sealed class AttemptTimer : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly DeploymentTimeouts _timeouts;
    private readonly long _start = Stopwatch.GetTimestamp();
    private bool _answered;

    public AttemptTimer(DeploymentTimeouts timeouts, CancellationToken clientToken)
    {
        ArgumentNullException.ThrowIfNull(timeouts);
        _timeouts = timeouts;
        _source = CancellationTokenSource.CreateLinkedTokenSource(clientToken);
        Arm(timeouts.FirstByte);
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The response headers arrived: from now on the idle timeout applies between reads.</summary>
    public void Answered()
    {
        _answered = true;
        Arm(_timeouts.Idle);
    }

    /// <summary>A piece of the body arrived: the idle timeout starts again.</summary>
    public void Progressed() => Arm(_timeouts.Idle);

    /// <summary>Why the token was cancelled, for the error message and the record.</summary>
    public string Describe()
    {
        var elapsed = Stopwatch.GetElapsedTime(_start);
        if (elapsed >= _timeouts.Total - TimeSpan.FromMilliseconds(5))
        {
            return $"the call passed its total timeout of {_timeouts.Total.TotalSeconds:0.###} s";
        }

        return _answered
            ? $"the provider sent nothing for {_timeouts.Idle.TotalSeconds:0.###} s (idle timeout)"
            : $"no answer within {_timeouts.FirstByte.TotalSeconds:0.###} s (first-byte timeout)";
    }

    public void Dispose() => _source.Dispose();

    private void Arm(TimeSpan phase)
    {
        var left = _timeouts.Total - Stopwatch.GetElapsedTime(_start);
        var wait = phase < left ? phase : left;
        _source.CancelAfter(wait > TimeSpan.Zero ? wait : TimeSpan.FromTicks(1));
    }
}
