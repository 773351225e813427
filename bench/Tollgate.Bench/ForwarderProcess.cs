using System.Diagnostics;

namespace Tollgate.Bench;

/// <summary>A server under load that runs as a process of its own: its CPU is counted with the bench process's.</summary>
internal interface IServerProcess
{
    /// <summary>The CPU time the process has used so far.</summary>
    TimeSpan Cpu { get; }
}

/// <summary>
/// The <see cref="BareForwarder"/> in a process of its own (this bench started with <c>--serve-forwarder URL</c>), to
/// be compared with <c>tollgate serve</c>: each with its own heap and collector, as a proxy runs in production, instead
/// of sharing the bench's heap with the load generator and the upstream.
/// </summary>
internal sealed class ForwarderProcess : IServerProcess, IAsyncDisposable
{
    private readonly Process _process;

    private ForwarderProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<ForwarderProcess> StartAsync(Uri upstreamBase)
    {
        var process = BenchChild.Start("--serve-forwarder", upstreamBase.AbsoluteUri);
        var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the forwarder did not start");
        return new ForwarderProcess(process, new Uri(line));
    }

    /// <summary>The forwarder's own process: serves until its standard input closes.</summary>
    public static async Task ServeAsync(Uri upstreamBase)
    {
        await using var forwarder = await BareForwarder.StartAsync(upstreamBase);
        Console.WriteLine(forwarder.BaseUrl);
        await Console.In.ReadToEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
