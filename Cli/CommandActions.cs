using System.CommandLine;
using System.Runtime.InteropServices;

namespace Huginn.Cli;

/// <summary>Runs a command's body in a <see cref="Session"/> and turns every failure into its exit code and a message on stderr.</summary>
public static class CommandActions
{
    public static void SetBody(this Command command, Func<Session, ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            // The first Ctrl+C cancels the command (a follow ends saying how to resume); a second one kills the process.
            using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
            {
                signal.Cancel = !interrupt.IsCancellationRequested;
                interrupt.Cancel();
            });
            try
            {
                using var session = Session.From(parse);
                return await body(session, parse, interrupt.Token);
            }
            catch (CliException ex)
            {
                WriteError(ex.Message, ex.Details);
                return ex.ExitCode;
            }
            catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
            {
                WriteError("interrupted", []);
                return ExitCodes.Interrupted;
            }
        });

    public static void WriteError(string message, IReadOnlyList<string> details)
    {
        var error = Console.Error;
        error.WriteLine($"error: {message}");
        foreach (var line in details) error.WriteLine($"  {line}");
    }
}
