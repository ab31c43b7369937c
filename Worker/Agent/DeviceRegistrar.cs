using System.Net.Http.Headers;
using System.Net.Http.Json;
using Huginn.Protocol;

namespace Huginn.Worker.Agent;

/// <summary>Creates the device with the contributor's key (POST /v1/devices) and returns its token.</summary>
public static class DeviceRegistrar
{
    private sealed record Request(string Name, DeviceCapabilitiesDto Capabilities);
    private sealed record Response(string DeviceId, string DeviceToken);

    public static async Task<(string DeviceId, string Token)> RegisterAsync(Uri api, string apiKey, string name, DeviceCapabilitiesDto capabilities, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(api.ToString().TrimEnd('/') + "/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/devices") { Content = JsonContent.Create(new Request(name, capabilities), options: Frame.Json) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"registration refused ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(cancellationToken)}");
        var created = (await response.Content.ReadFromJsonAsync<Response>(Frame.Json, cancellationToken))!;
        return (created.DeviceId, created.DeviceToken);
    }
}
