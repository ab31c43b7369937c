using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Huginn.Cli;

/// <summary>Help as System.CommandLine writes it, followed by what each exit code means.</summary>
public sealed class HelpWithExitCodes(SynchronousCommandLineAction help) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public static void Install(RootCommand root)
    {
        var option = root.Options.OfType<HelpOption>().Single();
        if (option.Action is SynchronousCommandLineAction help) option.Action = new HelpWithExitCodes(help);
    }

    public override int Invoke(ParseResult parseResult)
    {
        var exit = help.Invoke(parseResult);
        parseResult.InvocationConfiguration.Output.WriteLine(ExitCodes.Help);
        return exit;
    }
}
