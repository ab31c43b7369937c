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

    /// <summary>The field (JSON path without "$.") and the reason, in words fit for the client (<see cref="JsonFieldErrors"/>).</summary>
    public static SpecError Describe(BadHttpRequestException bad, Type? bodyType)
    {
        ArgumentNullException.ThrowIfNull(bad);
        if (bad.InnerException is JsonException json) return JsonFieldErrors.Describe(json, bodyType);
        if (BindFailure().Match(bad.Message) is { Success: true } bind)
            return new SpecError(bind.Groups["name"].Value, $"must be {JsonFieldErrors.Expected(ClrType(bind.Groups["type"].Value))}");
        if (RequiredParameter().Match(bad.Message) is { Success: true } required)
            return new SpecError(required.Groups["name"].Value, "is required");
        return new SpecError("body", bad.Message.Contains("body was provided", StringComparison.OrdinalIgnoreCase)
            ? "is required: a JSON object" : "could not be read as this endpoint's JSON object");
    }

    /// <summary>A C# keyword or type name from a binding message ("int", "long?", "Int32"), as a type.</summary>
    private static Type? ClrType(string name) => Unwrapped(name) switch
    {
        "int" or "Int32" => typeof(int),
        "long" or "Int64" => typeof(long),
        "uint" or "UInt32" => typeof(uint),
        "ulong" or "UInt64" => typeof(ulong),
        "double" or "Double" or "float" or "Single" => typeof(double),
        "decimal" or "Decimal" => typeof(decimal),
        "bool" or "Boolean" => typeof(bool),
        "DateTimeOffset" or "DateTime" => typeof(DateTimeOffset),
        "Guid" => typeof(Guid),
        _ => null,
    };

    /// <summary>"long?", "Nullable<long>" → "long".</summary>
    private static string Unwrapped(string name) =>
        name.StartsWith("Nullable<", StringComparison.Ordinal) ? name["Nullable<".Length..].TrimEnd('>') : name.TrimEnd('?');

    /// <summary>A query string or route value that did not parse: <c>Failed to bind parameter "int limit" from "abc".</c></summary>
    [GeneratedRegex(@"Failed to bind parameter ""(?<type>[\w.?<>]+) (?<name>\w+)"" from")]
    private static partial Regex BindFailure();

    [GeneratedRegex(@"Required parameter ""(?<type>[\w.?<>]+) (?<name>\w+)"" was not provided")]
    private static partial Regex RequiredParameter();
}
