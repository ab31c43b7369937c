namespace Huginn.Cli;

/// <summary>A failure the user should read: a headline, the lines that explain it, and the exit code it maps to.</summary>
public sealed class CliException(int exitCode, string message, IReadOnlyList<string>? details = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
    public IReadOnlyList<string> Details { get; } = details ?? [];

    public static CliException Usage(string message, params string[] details) => new(ExitCodes.Usage, message, details);
}
