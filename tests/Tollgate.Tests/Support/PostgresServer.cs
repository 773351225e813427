using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Tollgate.Tests.Support;

/// <summary>
/// A throw-away PostgreSQL cluster for the tests that need one: <c>initdb</c> into a temp folder and <c>pg_ctl</c> on a
/// free port on 127.0.0.1, from the installed server binaries (<c>pg_config --bindir</c>; <c>./test.sh</c> installs
/// them when missing). As root it runs as the <c>postgres</c> user, which PostgreSQL requires. Each test takes a
/// database of its own (<see cref="CreateDatabaseAsync"/>); the cluster is stopped and deleted at the end.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-pg-" + Guid.NewGuid().ToString("N"));
    private string _bin = null!;

    private readonly List<NpgsqlDataSource> _sources = [];

    public int Port { get; private set; }

    /// <summary>The connection string of the cluster's <c>postgres</c> database, as the superuser.</summary>
    public string AdminConnectionString => Connection("postgres");

    /// <summary>Stops the server (fast shutdown: connections are cut), as an outage would.</summary>
    public Task StopServerAsync() =>
        RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "fast", "-w", "stop"], asPostgres: true);

    /// <summary>Starts the stopped server again on the same port; pooled connections to the old one are dropped.</summary>
    public async Task StartServerAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(_bin, "pg_ctl"),
            ["-D", Path.Combine(_directory, "data"), "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
             "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", "start"],
            asPostgres: true);
    }

    public async Task InitializeAsync()
    {
        _bin = ServerBinaries();
        Directory.CreateDirectory(_directory);
        var data = Path.Combine(_directory, "data");
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", ["-R", "postgres:postgres", _directory], asPostgres: false);
        }

        await RunAsync(Path.Combine(_bin, "initdb"), ["-D", data, "-U", "tollgate", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], asPostgres: true);
        Port = FreePort();
        await StartServerAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"], asPostgres: true);
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>A data source on a new database with the gateway's schema (disposed with the server).</summary>
    public async Task<NpgsqlDataSource> CreateMigratedSourceAsync()
    {
        var source = NpgsqlDataSource.Create(await CreateDatabaseAsync());
        lock (_sources)
        {
            _sources.Add(source);
        }

        await Tollgate.Ledger.Postgres.PostgresMigrations.ApplyAsync(source, default);
        return source;
    }

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        // Not pooled: a pooled connection may be one a restart of the server (an outage test) has cut.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return Connection(name);
    }

    /// <summary>
    /// Two gateways (replicas) on a new database of this cluster, each serving the alias <c>m</c> from the built-in mock
    /// provider; <paramref name="modelFields"/> adds fields to that model (<c>", rpm: 30"</c>), <paramref name="sections"/>
    /// top-level sections to the configuration (budgets, alerts).
    /// </summary>
    internal async Task<Replicas> StartReplicasAsync(string modelFields = "", string sections = "")
    {
        var yaml = $"storage:\n  postgres: \"{await CreateDatabaseAsync()}\"\n{sections}models:\n  - {{ alias: m, provider: mock, model: mock-gpt{modelFields} }}\n";
        var a = await TestGateway.StartAsync(yaml);
        return new Replicas(a, await TestGateway.StartAsync(yaml));
    }

    private string Connection(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "tollgate", Database = database, Pooling = true, MaxPoolSize = 50 }.ConnectionString;

    /// <summary>Debian's server binaries (<c>/usr/lib/postgresql/N/bin</c>, the newest), else what <c>initdb</c> on PATH is next to.</summary>
    private static string ServerBinaries()
    {
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
        return debian ?? onPath ?? throw new InvalidOperationException(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: run ./test.sh, which installs them, or 'apt-get install postgresql'.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> RunAsync(string file, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = asPostgres && Environment.UserName == "root"
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. arguments])
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}{await output}");
        }

        return await output;
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

/// <summary>Two gateways on one PostgreSQL database, stopped together.</summary>
internal sealed record Replicas(TestGateway A, TestGateway B) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}
