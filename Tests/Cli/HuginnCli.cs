using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Huginn.Tests.Cli;

/// <summary>What one run of the huginn process did.</summary>
public sealed record CliRun(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout as one JSON document (what --json prints for a single response).</summary>
    public JsonElement Json() => JsonDocument.Parse(Stdout).RootElement.Clone();

    /// <summary>Stdout as JSON lines (submit --json prints the submission, then the final job).</summary>
    public JsonElement[] JsonLines() =>
        [.. Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    public override string ToString() => $"huginn {Command} exited {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real CLI as a separate process (`dotnet huginn.dll`) with stdin redirected and closed, as a script
/// would, and kills it when it outlives its timeout.
/// </summary>
public sealed class HuginnCli(Uri api, string? key = null)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private static readonly Lazy<string> Dll = new(Locate);

    public HuginnCli WithKey(string newKey) => new(api, newKey);

    public Task<CliRun> RunAsync(params string[] args) => RunAsync(args, DefaultTimeout);

    public async Task<CliRun> RunAsync(string[] args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Dll.Value);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--api");
        start.ArgumentList.Add(api.ToString());
        // Only what the test says: no HUGINN_* from the developer's shell, no colours to parse around.
        start.Environment.Remove("HUGINN_API");
        start.Environment.Remove("HUGINN_API_KEY");
        start.Environment["NO_COLOR"] = "1";
        if (key is not null && environment?.ContainsKey("HUGINN_API_KEY") != true) start.Environment["HUGINN_API_KEY"] = key;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var command = string.Join(' ', args);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start huginn");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"huginn {command} did not exit within {timeout.TotalSeconds:F0}s and was killed\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
        }
        return new CliRun(command, process.ExitCode, await stdout, await stderr);
    }

    public static string SampleSpec => Path.Combine(RepositoryRoot(), "Cli", "samples", "train-mlp.json");

    /// <summary>The dotnet host that runs these tests, so the CLI runs on the same runtime.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath!
        : "dotnet";

    /// <summary>huginn.dll as the Cli project built it (the ProjectReference builds it with the tests), else beside the tests.</summary>
    private static string Locate()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent?.Name ?? "Debug";
        var candidates = new[]
        {
            Path.Combine(RepositoryRoot(), "Cli", "bin", configuration, framework, "huginn.dll"),
            Path.Combine(AppContext.BaseDirectory, "huginn.dll"),
        };
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"huginn.dll not found; looked at {string.Join(", ", candidates)}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Huginn.Orleans.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Huginn.Orleans.sln above {AppContext.BaseDirectory}");
    }
}
