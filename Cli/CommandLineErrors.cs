using System.Text.RegularExpressions;
using Huginn.Workloads;

namespace Huginn.Cli;

/// <summary>
/// System.CommandLine's parse errors in the API's words: "Cannot parse argument 'lots' for option '--hu' as expected
/// type 'System.Decimal'" becomes "--hu: 'lots' must be a number (at most 7.9e28)". A user reads what a flag must be,
/// never a .NET type name (issue 13, finding 6).
/// </summary>
public static partial class CommandLineErrors
{
    public static string Describe(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var match = CannotParse().Match(message);
        if (!match.Success) return message;
        var where = match.Groups["where"].Success ? match.Groups["where"].Value : "argument";
        return $"{where}: '{match.Groups["value"].Value}' must be {JsonFieldErrors.Expected(TypeNamed(match.Groups["type"].Value))}";
    }

    /// <summary>The innermost System type in a name like "System.Nullable`1[[System.Decimal, System.Private.CoreLib, …]]".</summary>
    private static Type? TypeNamed(string name)
    {
        var simple = SystemType().Matches(name).Select(m => m.Value).LastOrDefault(n => n != "System.Nullable`1");
        return simple is null ? null : Type.GetType(simple);
    }

    [GeneratedRegex("Cannot parse argument '(?<value>.*?)' (?:for (?:option|command) '(?<where>[^']+)' )?as expected type '(?<type>.+)'\\.?")]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"System\.[A-Za-z0-9`]+")]
    private static partial Regex SystemType();
}
