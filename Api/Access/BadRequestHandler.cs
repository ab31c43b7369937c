using System.Text.Json;
using System.Text.RegularExpressions;
using Huginn.Workloads;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;

namespace Huginn.Api.Access;

/// <summary>
/// A body the framework could not bind (malformed JSON, a field of the wrong type, a field the request does not have,
/// no body) is a 400 problem naming the field and what it must be, in the same shape as every other invalid input.
/// Without this the framework answers a bare "Bad Request" that tells a client nothing (issue 12, finding 4).
/// Needs <c>RouteHandlerOptions.ThrowOnBadRequest</c>, so that binding failures reach the exception handler.
/// </summary>
public sealed partial class BadRequestHandler(ILogger<BadRequestHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || context.Response.HasStarted) return false;
        var problem = bad.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => Problems.TooLarge(Hosting.ApiHostingExtensions.MaxJsonBodyBytes),
            StatusCodes.Status415UnsupportedMediaType => Results.Problem(title: "unsupported media type",
                detail: "send the body as application/json", statusCode: StatusCodes.Status415UnsupportedMediaType),
            _ => Problems.Invalid([Describe(bad, context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType)]),
        };
        logger.LogDebug("Refused a request body on {Path}: {Error}", context.Request.Path, bad.InnerException?.Message ?? bad.Message);
        await problem.ExecuteAsync(context);
        return true;
    }

    /// <summary>The field (JSON path without "$.") and the reason, in words fit for the client.</summary>
    public static SpecError Describe(BadHttpRequestException bad, Type? bodyType)
    {
        if (bad.InnerException is not JsonException json)
            return new SpecError("body", bad.Message.Contains("body was provided", StringComparison.OrdinalIgnoreCase)
                ? "is required: a JSON object" : "could not be read as this endpoint's JSON object");
        // Broken JSON is the body's fault, wherever the reader stopped.
        if (json.InnerException is null && json.Message.Contains("depth", StringComparison.Ordinal) || IsReaderError(json))
            return new SpecError("body", $"is not valid JSON (line {json.LineNumber + 1}, byte {json.BytePositionInLine})");
        var field = FieldOf(json.Path);
        var unmapped = UnmappedProperty().Match(json.Message);
        if (unmapped.Success)
        {
            var name = unmapped.Groups["name"].Value;
            // The path usually ends at the unknown property already; when it stops at its parent, append it.
            if (!field.EndsWith(name, StringComparison.Ordinal)) field = field.Length == 0 ? name : $"{field}.{name}";
            return new SpecError(field, "is not a field of this request");
        }
        if (field.Length == 0) return new SpecError("body", "must be a JSON object");
        // The message names the object the value was read into; the path's last segment is the property in it.
        // The message names either the value's own type (a plain property: "System.Int32") or the record the value was
        // being read into (a constructor parameter); in the second case the path's last segment is the property in it.
        var named = ConvertedType().Match(json.Message) is { Success: true } m ? m.Groups["type"].Value : null;
        var type = named is null ? TypeAt(bodyType, field)
            : (named.StartsWith("System.", StringComparison.Ordinal) ? Type.GetType(named) : null) ?? (FindType(named) is { } container ? TypeAt(container, field.Split('.')[^1]) : TypeAt(bodyType, field));
        return new SpecError(field, $"must be {Expected(type)}");
    }

    private static bool IsReaderError(JsonException json) =>
        json.InnerException?.GetType().Name == "JsonReaderException" || json.GetType().Name == "JsonReaderException";

    private static string FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "";
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    /// <summary>The declared type of the property at a path like "spec.model.hiddenSizes[0]", null when unknown.</summary>
    private static Type? TypeAt(Type? type, string field)
    {
        foreach (var segment in field.Split('.'))
        {
            if (type is null) return null;
            var bracket = segment.IndexOf('[');
            var name = bracket < 0 ? segment : segment[..bracket];
            var property = type.GetProperty(name, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
            type = property?.PropertyType;
            if (type is not null && bracket >= 0) type = ElementOf(type);
        }
        return type;
    }

    private static Type? ElementOf(Type type) =>
        type.IsArray ? type.GetElementType() : type.IsGenericType ? type.GetGenericArguments().LastOrDefault() : null;

    /// <summary>A .NET type as a JSON client thinks of it.</summary>
    private static string Expected(Type? type)
    {
        if (type is null) return "of the documented type";
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"one of {string.Join(", ", Enum.GetNames(type).Select(n => $"\"{JsonNamingPolicy.CamelCase.ConvertName(n)}\""))}";
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(decimal)) return "a number (at most 7.9e28)";
        if (type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(int) || type == typeof(uint)) return "an integer (32-bit)";
        if (type == typeof(long) || type == typeof(ulong)) return "an integer (64-bit)";
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime)) return "an ISO-8601 time";
        if (type.IsArray || type != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(type)) return "an array";
        return "an object";
    }

    private static Type? FindType(string fullName) => AppDomain.CurrentDomain.GetAssemblies()
        .Where(a => a.GetName().Name?.StartsWith("Huginn", StringComparison.Ordinal) == true)
        .Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null);

    [GeneratedRegex("could not be converted to (?<type>[\\w.`+\\[\\]]+?)\\. Path")]
    private static partial Regex ConvertedType();

    [GeneratedRegex("The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnmappedProperty();

}
