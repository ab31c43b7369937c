using System.Net;

namespace Huginn.Cli;

/// <summary>What huginn's exit status means; scripts branch on these, so they never change meaning.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int JobNotCompleted = 1;
    public const int Usage = 2;
    public const int Auth = 3;
    public const int NotFound = 4;
    public const int Conflict = 5;
    public const int RateLimited = 6;
    public const int Unavailable = 7;
    public const int Interrupted = 130;

    public const string Help = """
        Exit codes:
          0    success (submit, follow, events: the job completed)
          1    the job failed or was cancelled (or submit's confirmation was declined)
          2    usage or validation error (bad flags, unreadable spec, HTTP 400/413/422)
          3    authentication or authorization (no key, HTTP 401/403)
          4    not found (HTTP 404)
          5    conflict or insufficient balance (HTTP 409/402)
          6    rate limited (HTTP 429)
          7    API unreachable, or any other server error
          130  interrupted (Ctrl+C) while following; the job goes on
        """;

    public static int ForStatus(HttpStatusCode status) => (int)status switch
    {
        400 or 413 or 422 => Usage,
        401 or 403 => Auth,
        404 => NotFound,
        402 or 409 => Conflict,
        429 => RateLimited,
        _ => Unavailable,
    };
}
