using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tollgate.Tests.Support;

/// <summary>
/// The gateway as its own process (<c>tollgate serve</c>), for tests that kill it or send it SIGTERM. It listens on a
/// fixed free port, so a restarted process is found at the same address.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly string _configPath;
    private readonly int _port;
    private Process? _process;

    private GatewayProcess(string directory, string configPath, int port)
    {
        Directory = directory;
        _configPath = configPath;
        _port = port;
        BaseUrl = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri BaseUrl { get; }

    /// <summary>The data folder: the ledger is <c>ledger.db</c> in it.</summary>
    public string Directory { get; }

    public string LedgerPath => Path.Combine(Directory, "ledger.db");

    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Writes the configuration (with storage pointing at a temp folder) and starts the process.</summary>
    /// <param name="yamlBody">Everything but <c>master_key</c> and <c>storage</c>.</param>
    /// <param name="postgres">A PostgreSQL connection string: the ledger (and shared state) goes there instead of <c>ledger.db</c>.</param>
    public static async Task<GatewayProcess> StartAsync(string yamlBody, string? postgres = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-proc-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var configPath = Path.Combine(directory, "tollgate.yaml");
        await File.WriteAllTextAsync(configPath, $"""
            master_key: {TestGateway.MasterKey}
            storage:
              data_dir: {directory}
              sqlite_path: {Path.Combine(directory, "ledger.db")}
            {(postgres is null ? string.Empty : $"  postgres: \"{postgres}\"")}
            {yamlBody}
            """);
        var gateway = new GatewayProcess(directory, configPath, FreePort());
        await gateway.RestartAsync();
        return gateway;
    }

    /// <summary>Starts the process (again) and waits until it answers /healthz.</summary>
    public async Task RestartAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "tollgate.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "serve", "--config", _configPath, "--listen", $"127.0.0.1:{_port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Output.Add(e.Data ?? "");
        _process.ErrorDataReceived += (_, e) => Output.Add(e.Data ?? "");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // A loaded machine can take seconds to answer the first request of a fresh process (JIT, journal replay): a slow
        // probe is retried, not a failure.
        using var probe = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("tollgate serve exited: " + string.Join('\n', Output));
            }

            try
            {
                if ((await probe.GetAsync(new Uri("/healthz", UriKind.Relative))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or not answering yet.
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("tollgate serve did not answer /healthz within 60 s: " + string.Join('\n', Output));
    }

    /// <summary>Everything the process wrote to stdout and stderr.</summary>
    public System.Collections.Concurrent.ConcurrentBag<string> Output { get; } = [];

    /// <summary>kill -9: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process!.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM (what systemd, Docker and Kubernetes send) without waiting.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process!.WaitForExitAsync(cancellationToken);

    public int ExitCode => _process!.ExitCode;

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Temp folder; a handle may still be closing.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
