using Tollgate.Cli;

return await TollgateCli.Build().Parse(args).InvokeAsync();
