using System.Diagnostics;
using System.Reflection;

namespace Tollgate.Bench;

/// <summary>This bench started again as a child process with other arguments (a sink, a forwarder of its own).</summary>
internal static class BenchChild
{
    /// <summary>Starts it with <paramref name="arguments"/>; its standard input and output are the caller's to use.</summary>
    public static Process Start(params string[] arguments)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        string[] all = Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? [Assembly.GetEntryAssembly()!.Location, .. arguments]
            : arguments;
        return Process.Start(new ProcessStartInfo(host, all)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("could not start " + string.Join(' ', arguments));
    }
}
