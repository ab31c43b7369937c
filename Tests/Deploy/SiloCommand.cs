using System.Diagnostics;

namespace Huginn.Tests.Deploy;

/// <summary>The built Huginn.Silo as a process, with the environment a manifest would give it.</summary>
internal static class SiloCommand
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string[] args, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [SiloDll(), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Huginn.Silo {string.Join(' ', args)} did not exit within 60 s: {await output}{await errors}");
        }
        return (process.ExitCode, await output + await errors);
    }

    private static string SiloDll()
    {
        var here = Path.GetDirectoryName(typeof(SiloCommand).Assembly.Location)!; // Tests/bin/<Configuration>/net10.0
        var configuration = new DirectoryInfo(here).Parent!.Name;
        for (var dir = new DirectoryInfo(here); dir is not null; dir = dir.Parent)
        {
            var dll = Path.Combine(dir.FullName, "Silo", "bin", configuration, "net10.0", "Huginn.Silo.dll");
            if (File.Exists(dll)) return dll;
        }
        throw new FileNotFoundException($"Huginn.Silo.dll ({configuration}) not found above {here}; build Tests/Tests.csproj first.");
    }
}
