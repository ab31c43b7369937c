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

    /// <summary>
    /// Keeps a new device's token where the options say and tells the contributor what became of it, without the token
    /// itself unless --show-token asked for it (issue 12, finding 10: the token used to be printed on every registration).
    /// </summary>
    public static string Announce(string deviceId, string token, WorkerOptions options)
    {
        var kept = "";
        if (options.TokenFile is { } path)
        {
            WriteOwnerOnly(path, token);
            kept = $"; its token is in {path}";
        }
        if (options.ShowToken) return $"registered device {deviceId}{kept}; its token (keep it, shown once): {token}";
        return options.TokenFile is null
            ? $"registered device {deviceId}; its token is not shown (--show-token prints it, --token-file PATH keeps it for the next run)"
            : $"registered device {deviceId}{kept}";
    }

    /// <summary>The token from a token file, trimmed; a clear error when the file is missing or empty.</summary>
    public static string ReadToken(string path)
    {
        var token = File.Exists(path) ? File.ReadAllText(path).Trim() : "";
        return token.Length > 0 ? token : throw new InvalidOperationException($"no device token in {path}: register with --register --token-file {path} first");
    }

    private static void WriteOwnerOnly(string path, string token)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new StreamWriter(path, System.Text.Encoding.UTF8, options);
        file.Write(token);
    }
}
