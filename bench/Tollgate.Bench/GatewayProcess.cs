using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Tollgate.Bench;

/// <summary>
/// The built <c>tollgate serve</c> as a process of its own, on a free port with its own data folder and the given
/// models and settings: what a user runs, with its own heap, threads and OpenTelemetry listeners. Stopped gracefully
/// (SIGTERM: requests finished, the journal flushed into the ledger).
/// </summary>
internal sealed class GatewayProcess : IServerProcess, IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _output;
    private readonly Task<string> _errors;

    private GatewayProcess(Process process, Uri baseUrl, string directory)
    {
        _process = process;
        BaseUrl = baseUrl;
        Directory = directory;
        _output = process.StandardOutput.ReadToEndAsync();
        _errors = process.StandardError.ReadToEndAsync();
    }

    public Uri BaseUrl { get; }

    /// <summary>Its data folder (the SQLite ledger is <c>tollgate.db</c> in it).</summary>
    public string Directory { get; }

    public int Id => _process.Id;

    /// <summary>The CPU time the process has used so far.</summary>
    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts it with <paramref name="settings"/> (YAML: its models, telemetry, …) and waits until /healthz answers.</summary>
    public static async Task<GatewayProcess> StartAsync(string masterKey, string settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-process-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var port = FreePort();
        var configPath = Path.Combine(directory, "tollgate.yaml");
        await File.WriteAllTextAsync(configPath, $"listen: 127.0.0.1:{port}\nmaster_key: {masterKey}\nstorage:\n  data_dir: {directory}\n{settings}\n");
        var path = Path.Combine(AppContext.BaseDirectory, "tollgate");
        var start = new ProcessStartInfo(path, ["serve", "--config", configPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // Runtime settings for the gateway's process alone (TOLLGATE_BENCH_GATEWAY_ENV="DOTNET_GCgen0size=0x4000000;…"),
        // to try a setting on the gateway without changing the forwarder's.
        foreach (var setting in (Environment.GetEnvironmentVariable("TOLLGATE_BENCH_GATEWAY_ENV") ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                start.Environment[setting[..equals]] = setting[(equals + 1)..];
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + path);
        var gateway = new GatewayProcess(process, new Uri($"http://127.0.0.1:{port}"), directory);
        try
        {
            await gateway.WaitUntilUpAsync();
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }

        return gateway;
    }

    /// <summary>A field of /proc/PID/status in KiB (VmRSS now, VmHWM the peak, Threads).</summary>
    public long Status(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>SIGTERM, and waits for the graceful stop.</summary>
    public async Task StopAsync()
    {
        Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _output;
        await _errors;
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private async Task WaitUntilUpAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseUrl };
        for (var i = 0; i < 300; i++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("tollgate serve exited: " + await _errors);
            }

            try
            {
                using var response = await client.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the gateway did not answer /healthz within 30 s");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
