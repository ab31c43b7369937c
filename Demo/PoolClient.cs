using System.Net.Http.Headers;
using System.Net.Http.Json;
using Huginn.Api.Apis;
using Huginn.Protocol;
using Huginn.Workloads;

namespace Huginn.Demo;

/// <summary>A thin client of the public API, as a data scientist's script would use it.</summary>
public sealed class PoolClient(Uri api, string? apiKey = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = api };

    public PoolClient As(string key) => new(api, key);

    /// <summary>The API key this client sends (null: anonymous).</summary>
    public string? ApiKey => apiKey;

    public async Task<CreateAccountResponse> CreateAccountAsync(string name, string role) =>
        await SendAsync<CreateAccountResponse>(HttpMethod.Post, "v1/accounts", new CreateAccountRequest(name, role));

    public Task<AccountResponse> MeAsync() => SendAsync<AccountResponse>(HttpMethod.Get, "v1/accounts/me");

    public Task<AccountResponse> BuyAsync(decimal hu) => SendAsync<AccountResponse>(HttpMethod.Post, "v1/accounts/me/credits", new CreditRequest(hu));

    public Task<RegisterDeviceResponse> RegisterDeviceAsync(string name, DeviceCapabilitiesDto capabilities) =>
        SendAsync<RegisterDeviceResponse>(HttpMethod.Post, "v1/devices", new RegisterDeviceRequest(name, capabilities));

    public Task<DeviceResponse> DeviceAsync(string deviceId) => SendAsync<DeviceResponse>(HttpMethod.Get, $"v1/devices/{deviceId}");

    public async Task<string> UploadAsync(byte[] bytes)
    {
        using var request = Request(HttpMethod.Post, "v1/blobs");
        request.Content = new ByteArrayContent(bytes);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return (await ReadAsync<BlobCreatedResponse>(await _http.SendAsync(request))).BlobId;
    }

    public Task<SubmitJobResponse> SubmitAsync(JobSpec spec, decimal? maxHu = null) =>
        SendAsync<SubmitJobResponse>(HttpMethod.Post, "v1/jobs", new SubmitJobRequest(spec, maxHu));

    public Task<JobResponse> JobAsync(string jobId) => SendAsync<JobResponse>(HttpMethod.Get, $"v1/jobs/{jobId}");

    public async Task<byte[]> ResultAsync(string jobId)
    {
        using var response = await _http.SendAsync(Request(HttpMethod.Get, $"v1/jobs/{jobId}/result"));
        await EnsureSuccessAsync(response);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return request;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body = null)
    {
        using var request = Request(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Frame.Json);
        return await ReadAsync<T>(await _http.SendAsync(request));
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        using (response)
        {
            await EnsureSuccessAsync(response);
            return (await response.Content.ReadFromJsonAsync<T>(Frame.Json))!;
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.ReasonPhrase}: {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose() => _http.Dispose();
}
