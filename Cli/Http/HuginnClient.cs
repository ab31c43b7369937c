using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Huginn.Protocol;

namespace Huginn.Cli.Http;

/// <summary>A successful answer: its raw body (what --json prints) and the same body read as a record.</summary>
public sealed record ApiResponse(HttpStatusCode Status, string Body)
{
    public T Read<T>() => JsonSerializer.Deserialize<T>(Body, Frame.Json)
        ?? throw new CliException(ExitCodes.Unavailable, $"the API answered {(int)Status} with an empty body");
}

/// <summary>
/// The public API over HTTP. Every failure leaves as a <see cref="CliException"/>: problem details become the
/// exit code of their status, and a pool that cannot be reached becomes <see cref="ExitCodes.Unavailable"/>.
/// </summary>
public sealed class HuginnClient : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(100);
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly HttpClient _http;

    public HuginnClient(Uri api, string? key)
    {
        Api = api;
        // No client-wide timeout: event streams stay open as long as a job runs; plain requests get RequestTimeout each.
        _http = new HttpClient { BaseAddress = api, Timeout = Timeout.InfiniteTimeSpan };
        if (key is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var version = typeof(HuginnClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("huginn-cli", version.Split('+')[0]));
    }

    public Uri Api { get; }

    public Task<ApiResponse> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), attempts: 1, cancellationToken);

    public Task<ApiResponse> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, path), attempts: 1, cancellationToken);

    /// <summary>
    /// POSTs a JSON body. <paramref name="attempts"/> above 1 retries a request that got no answer (connection
    /// refused or reset, timeout); only safe where the server deduplicates, as an Idempotency-Key makes it.
    /// </summary>
    public Task<ApiResponse> PostAsync(string path, object body, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? headers = null, int attempts = 1)
    {
        var json = JsonSerializer.Serialize(body, body.GetType(), Frame.Json);
        return SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(name, value);
            return request;
        }, attempts, cancellationToken);
    }

    /// <summary>PUTs raw bytes (a dataset chunk). The server makes it idempotent, so a request that got no answer is retried.</summary>
    public Task<ApiResponse> PutBytesAsync(string path, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken, int attempts = 3) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Put, path)
        {
            Content = new ReadOnlyMemoryContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        }, attempts, cancellationToken);

    /// <summary>Opens a response whose body is read as it comes (events, result bytes); the caller disposes it.</summary>
    public async Task<HttpResponseMessage> OpenAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var headersTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        headersTimeout.CancelAfter(RequestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headersTimeout.Token);
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            throw Unreachable(ex);
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw Problem.Parse(response.StatusCode, response.ReasonPhrase, body).ToException(response.StatusCode);
        }
    }

    private async Task<ApiResponse> SendAsync(Func<HttpRequestMessage> build, int attempts, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = build();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                using var response = await _http.SendAsync(request, timeout.Token);
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.IsSuccessStatusCode) return new ApiResponse(response.StatusCode, body);
                throw Problem.Parse(response.StatusCode, response.ReasonPhrase, body).ToException(response.StatusCode);
            }
            catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
            {
                if (attempt >= attempts) throw Unreachable(ex);
                await Task.Delay(RetryDelay, cancellationToken);
            }
        }
    }

    /// <summary>No answer came: the connection failed, or the request timed out (not cancelled by the user).</summary>
    public static bool IsTransportFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private CliException Unreachable(Exception ex) => new(ExitCodes.Unavailable, $"cannot reach the Huginn API at {Api}",
        [ex is OperationCanceledException ? $"no answer within {RequestTimeout.TotalSeconds:F0} s" : Innermost(ex).Message,
         "set --api or HUGINN_API to a running pool's address"]);

    private static Exception Innermost(Exception ex) => ex.InnerException is { } inner ? Innermost(inner) : ex;

    public void Dispose() => _http.Dispose();
}
