using System.Text.Json;
using System.Text.Json.Nodes;
using Huginn.Protocol;
using Huginn.Workloads;

namespace Huginn.Cli;

/// <summary>
/// A job spec file: the JobSpec JSON, the same shape as the "spec" field of POST /v1/jobs. It is read here only far
/// enough to name a mistyped field; the document goes to the API as written, and the API validates it.
/// </summary>
public sealed record SpecFile(string Path, JsonObject Document, JobSpec Spec)
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static SpecFile Load(string path)
    {
        if (!File.Exists(path)) throw CliException.Usage($"spec file not found: {path}");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path), documentOptions: DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw CliException.Usage($"{path} is not valid JSON", $"line {ex.LineNumber + 1}: {FirstSentence(ex.Message)}");
        }
        if (node is not JsonObject document) throw CliException.Usage($"{path} must hold a JSON object: a job spec");

        try
        {
            var spec = document.Deserialize<JobSpec>(Strict) ?? throw CliException.Usage($"{path} holds no job spec");
            return new SpecFile(path, document, spec);
        }
        catch (JsonException ex)
        {
            // The API's words for the API's rules (JsonFieldErrors): the field's path and what it must be, never a .NET type.
            var error = JsonFieldErrors.Describe(ex, typeof(JobSpec), root: "spec");
            throw CliException.Usage($"{path} is not a valid job spec", $"{error.Field}: {error.Reason}");
        }
    }

    /// <summary>As the API reads a spec: a field the spec does not have is an error, not silently ignored (issue 13, finding 6).</summary>
    private static readonly JsonSerializerOptions Strict = new(Frame.Json) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}
