using Huginn.Workloads;

namespace Huginn.Api.Access;

/// <summary>RFC 9457 problem responses with stable titles, so clients can branch on them.</summary>
public static class Problems
{
    public static IResult Unauthorized() =>
        Results.Problem(title: "unauthorized", detail: "send a valid key as 'Authorization: Bearer <key>'", statusCode: 401);

    public static IResult Forbidden(string detail) => Results.Problem(title: "forbidden", detail: detail, statusCode: 403);

    public static IResult NotFound(string what) => Results.Problem(title: "not found", detail: $"no {what} with this id", statusCode: 404);

    public static IResult Conflict(string detail) => Results.Problem(title: "conflict", detail: detail, statusCode: 409);

    public static IResult Invalid(IEnumerable<SpecError> errors) => Results.ValidationProblem(
        errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray()),
        title: "invalid request");

    public static IResult Invalid(string field, string reason) => Invalid([new SpecError(field, reason)]);

    public static IResult TooLarge(long limit) =>
        Results.Problem(title: "payload too large", detail: $"the limit is {limit} bytes", statusCode: 413);

    /// <summary>An account's quota (devices, blob bytes) is spent; the detail names the quota and its setting.</summary>
    public static IResult QuotaExceeded(string detail) =>
        Results.Problem(title: "quota exceeded", detail: detail, statusCode: StatusCodes.Status429TooManyRequests);

    /// <summary>The blob store has no room left (its quota, not the request, is the limit).</summary>
    public static IResult StoreFull(long? quota) =>
        Results.Problem(title: "insufficient storage",
            detail: quota is { } limit ? $"the blob store is full: it holds at most {limit} bytes in all" : "the blob store is full",
            statusCode: 507);
}
