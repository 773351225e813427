using System.CommandLine;
using Tollgate.Cli;

// SIGTERM is left to the web host, which lets requests in flight finish within the configured grace period;
// System.CommandLine's own handling would end the process after two seconds.
return await TollgateCli.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
