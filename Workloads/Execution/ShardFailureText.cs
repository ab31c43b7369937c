using System.Text.RegularExpressions;

namespace Huginn.Workloads;

/// <summary>
/// A worker's words about a failed shard, made fit to show the job's owner: one line, printable, no file paths, no stack
/// trace, nothing that looks like a secret, at most <see cref="MaxLength"/> characters. The worker applies it before
/// sending and the server again on receipt (a worker is not trusted to have done it).
/// </summary>
public static partial class ShardFailureText
{
    public const int MaxLength = 300;

    /// <summary>The sanitized text, or null when nothing is left.</summary>
    public static string? Sanitize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        // A stack trace starts on the next line ("   at …"): only the first line is the message.
        var line = text.Split('\n', 2)[0];
        line = Whitespace().Replace(new string(line.Select(c => char.IsControl(c) ? ' ' : c).ToArray()), " ");
        line = StackFrame().Replace(line, "");
        line = WindowsPath().Replace(line, "(path)");
        line = UnixPath().Replace(line, "${lead}(path)");
        line = Secret().Replace(line, "(redacted)");
        line = line.Trim();
        if (line.Length > MaxLength) line = line[..(MaxLength - 1)].TrimEnd() + "…";
        return line.Length == 0 ? null : line;
    }

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\s+at\s+[\w.<>`]+\(.*$")]
    private static partial Regex StackFrame();

    /// <summary>Keys and tokens ("hk_…", "Bearer …", long base64 runs); a 64-hex content id is not a secret and stays.</summary>
    [GeneratedRegex(@"(?i:\bbearer)\s+\S+|\b(?:hk|hd|hgn|sk|tok)_[A-Za-z0-9_\-]{8,}|\b(?=[A-Za-z0-9+/_\-]*[A-Z])(?=[A-Za-z0-9+/_\-]*[a-z])(?=[A-Za-z0-9+/_\-]*\d)[A-Za-z0-9+/_\-]{32,}={0,2}")]
    private static partial Regex Secret();

    [GeneratedRegex(@"\b[A-Za-z]:\\[^\s""':,]*")]
    private static partial Regex WindowsPath();

    /// <summary>Two or more segments after a slash at the start of a word: "/home/me/data.bin", "~/x/y"; not "3/4" nor "f32/row".</summary>
    [GeneratedRegex(@"(?<lead>^|[\s""'(=:])~?/[^\s""'/:,]+(?:/[^\s""':,]*)+")]
    private static partial Regex UnixPath();
}
