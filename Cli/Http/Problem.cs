using System.Net;
using System.Text.Json;
using Huginn.Protocol;

namespace Huginn.Cli.Http;

/// <summary>An RFC 9457 problem as the API answers it; <see cref="Errors"/> maps a camelCase field to its reasons.</summary>
public sealed record Problem(string? Type, string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors)
{
    /// <summary>Reads a problem body, or makes one from the status line when the body is not a problem.</summary>
    public static Problem Parse(HttpStatusCode status, string? reason, string body)
    {
        try
        {
            if (JsonSerializer.Deserialize<Problem>(body, Frame.Json) is { Title: not null } problem) return problem;
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page, an empty body): fall through to the status line.
        }
        var detail = body.Length > 300 ? body[..300] + "…" : body;
        return new Problem(null, reason ?? status.ToString(), string.IsNullOrWhiteSpace(detail) ? null : detail.Trim(), (int)status, null);
    }

    public CliException ToException(HttpStatusCode status)
    {
        var lines = new List<string>();
        if (!string.IsNullOrWhiteSpace(Detail)) lines.Add(Detail);
        foreach (var (field, reasons) in Errors ?? [])
            foreach (var reason in reasons)
                lines.Add($"{(field.Length == 0 ? "spec" : field)}: {reason}");
        if (status == HttpStatusCode.Unauthorized) lines.Add("pass a valid account key with --key or HUGINN_API_KEY");
        return new CliException(ExitCodes.ForStatus(status), $"{Title ?? "error"} (HTTP {(int)status})", lines);
    }
}
