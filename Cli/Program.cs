using System.CommandLine;
using System.CommandLine.Invocation;
using Huginn.Cli;
using Huginn.Cli.Commands;

var root = new RootCommand("huginn: price, run, follow, download and cancel ML jobs on a Huginn pool.")
{
    Session.ApiOption,
    Session.KeyOption,
    Session.JsonOption,
    AccountCommands.Build(),
    JobCommands.Estimate(),
    SubmitCommand.Build(),
    JobCommands.Follow(),
    JobCommands.Status(),
    JobListCommand.Build(),
    JobCommands.Events(),
    JobCommands.Result(),
    CheckpointCommands.Build(),
    JobCommands.Cancel(),
    DataCommands.Build(),
    DeviceCommands.Build(),
    DeviceCommands.Pool(),
};
HelpWithExitCodes.Install(root);

var parse = root.Parse(args);
if (parse.Action is ParseErrorAction)
{
    // System.CommandLine exits 1 on a parse error; 1 means a failed job here, so bad flags are 2.
    CommandActions.WriteError("invalid command line", [.. parse.Errors.Select(e => CommandLineErrors.Describe(e.Message)), "see huginn --help"]);
    return ExitCodes.Usage;
}
// Ctrl+C is handled per command (CommandActions), so that an interrupted follow can say how to resume.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
