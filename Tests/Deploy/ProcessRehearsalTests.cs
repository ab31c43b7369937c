using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Huginn.Api.Hosting;
using Huginn.Demo;
using Huginn.Tests.Api;
using Huginn.Tests.Durable;
using Huginn.Tests.Pool;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Huginn.Tests.Deploy;

/// <summary>
/// The dev overlay rehearsed as processes on this machine: three <c>Huginn.Silo</c> and two <c>Huginn.Api</c> processes
/// started with the environment the rendered manifests give their containers (downward-API values and secrets filled in
/// with loopback addresses and this test's database), workers reaching the Apis through a round-robin TCP forwarder
/// that stands in for the Service, one Api and one silo SIGKILLed mid-job, and the job ending with exact balances.
/// </summary>
/// <remarks>
/// Where it must differ from a cluster, and why: <c>Huginn__Kubernetes=false</c> (no API server to watch pods), the
/// health, metrics and Api HTTP ports are free ports (five processes share one network namespace here; the silo and
/// gateway ports stay 11111 and 30000, each silo on its own loopback address as each pod has its own IP).
/// </remarks>
[Trait("Category", "Postgres"), Collection(ProcessRehearsalCollection.Name)]
public sealed class ProcessRehearsalTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_silos_and_two_Apis_from_the_manifests_lose_one_of_each_mid_job_and_finish_with_exact_balances()
    {
        await using var database = await TestDatabase.CreateAsync();
        var objects = Kustomization.Render("dev");
        var siloDeployment = objects.OfType<V1Deployment>().Single(d => d.Name() == "huginn-silo");
        var apiDeployment = objects.OfType<V1Deployment>().Single(d => d.Name() == "huginn-api");
        var secrets = new Dictionary<(string, string), string>
        {
            [("huginn-postgres", "connection-string")] = database.ConnectionString,
            // 32 random bytes, as the Api demands of an operator key (OPERATIONS.md).
            [("huginn-api", "operator-key")] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        var clusterId = siloDeployment.Spec.Template.Metadata.Labels["orleans/clusterId"];

        var processes = new List<HostProcess>();
        await using var forwarder = new RoundRobinForwarder();
        await using var workers = new FaultTests.Workers();
        IHost? auditor = null;
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var env = PodEnvironment.Resolve(siloDeployment, $"huginn-silo-{i}", podIp: $"127.0.0.{i + 2}", secrets);
                env["Huginn__Kubernetes"] = "false";
                env["Huginn__Health__Port"] = LocalPool.FreePort().ToString();
                env["Huginn__Metrics__Port"] = LocalPool.FreePort().ToString();
                processes.Add(HostProcess.Start($"silo{i}", "Silo", "Huginn.Silo.dll", env, healthPort: int.Parse(env["Huginn__Health__Port"])));
            }
            foreach (var silo in processes) await silo.UntilReadyAsync(TimeSpan.FromSeconds(90));
            output.WriteLine($"{Stamp()} three silos ready");
            Assert.Equal(3, await FaultTests.ActiveSilosAsync(database, clusterId));

            for (var i = 0; i < 2; i++)
            {
                var env = PodEnvironment.Resolve(apiDeployment, $"huginn-api-{i}", podIp: "127.0.0.1", secrets);
                var port = LocalPool.FreePort();
                env["ASPNETCORE_HTTP_PORTS"] = port.ToString();
                var api = HostProcess.Start($"api{i}", "Api", "Huginn.Api.dll", env, healthPort: port);
                processes.Add(api);
                await api.UntilReadyAsync(TimeSpan.FromSeconds(60));
                forwarder.Add(port);
            }
            var apis = processes.Where(p => p.Name.StartsWith("api")).ToList();
            output.WriteLine($"{Stamp()} two Apis ready");

            // Four contributors' workers and a client, all through the "Service": the workers' sockets land on both Apis.
            var (client, credit) = await workers.StartAsync(forwarder.Url, 4);
            await Eventually.UntilAsync(() => Task.FromResult(forwarder.WorkerSockets()), open => open.Sum() == 4 && open.All(n => n >= 1),
                "four worker sockets open, on both Apis", TimeSpan.FromSeconds(10));
            output.WriteLine($"{Stamp()} worker sockets per Api: {string.Join(", ", forwarder.WorkerSockets())}");

            var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 6, shards: 4));
            await Eventually.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.Progress.ShardsDone >= 8, "a third of the job done", TimeSpan.FromSeconds(90));

            var doneAtKill = workers.ShardsRun;
            apis[0].Kill();
            processes[0].Kill();
            output.WriteLine($"{Stamp()} SIGKILLed {apis[0].Name} and {processes[0].Name} after {doneAtKill} shards run");

            var job = await Eventually.UntilAsync(() => FaultTests.TryAsync(() => client.JobAsync(submitted.JobId)), j => j?.State is "completed" or "failed",
                "the job completing after one Api and one silo were killed", TimeSpan.FromSeconds(300));
            output.WriteLine($"{Stamp()} job {job!.State}; worker sockets per Api: {string.Join(", ", forwarder.WorkerSockets())}");
            Assert.True(job.State == "completed", $"the job {job.State}: {job.FailureReason}\n{workers.Failures()}");
            Assert.Equal(24, job.Progress.ShardsDone);
            Assert.True(workers.ShardsRun > doneAtKill, "the workers ran no shard after the kills");
            await Eventually.UntilAsync(() => Task.FromResult(forwarder.WorkerSockets()), open => open.SequenceEqual([0, 4]),
                "every worker connected to the surviving Api", TimeSpan.FromSeconds(30));

            auditor = await StartAuditorAsync(database.ConnectionString, clusterId);
            await FaultTests.AssertSettledAsync(client, credit, job, workers, auditor.Services.GetRequiredService<IClusterClient>());
        }
        catch
        {
            output.WriteLine($"{Stamp()} worker sockets per Api: {string.Join(", ", forwarder.WorkerSockets())}\n--- workers\n{workers.Failures()}");
            foreach (var process in processes) output.WriteLine($"--- {process.Name}\n{process.Tail()}");
            throw;
        }
        finally
        {
            await workers.StopAsync();
            if (auditor is not null)
            {
                await auditor.StopAsync();
                auditor.Dispose();
            }
            foreach (var process in processes) process.Kill();
        }
    }

    private static string Stamp() => DateTime.UtcNow.ToString("HH:mm:ss.f");

    /// <summary>An Orleans client of the rehearsed cluster, only to read the ledger's audit at the end.</summary>
    private static async Task<IHost> StartAuditorAsync(string connectionString, string clusterId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Storage"] = "postgres",
            ["ConnectionStrings:Huginn"] = connectionString,
            ["Huginn:ClusterId"] = clusterId,
        });
        builder.Logging.ClearProviders();
        builder.AddHuginnClusterClient();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}

/// <summary>
/// Runs alone, after the parallel tests: five hosts each open several Npgsql pools, and beside the other multi-process
/// tests (FaultTests) they exhausted PostgreSQL's default 100 connections (53300) on a shared server.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessRehearsalCollection
{
    public const string Name = "process-rehearsal";
}

/// <summary>A container's environment as Kubernetes would compute it: downward API, secrets, <c>$(VAR)</c> in order.</summary>
internal static partial class PodEnvironment
{
    public static Dictionary<string, string> Resolve(V1Deployment deployment, string podName, string podIp, IReadOnlyDictionary<(string, string), string> secrets)
    {
        var template = deployment.Spec.Template;
        var resolved = new Dictionary<string, string>();
        foreach (var variable in template.Spec.Containers.Single().Env)
        {
            string value;
            if (variable.ValueFrom?.FieldRef is { } field)
            {
                var label = LabelPath().Match(field.FieldPath);
                value = label.Success ? template.Metadata.Labels[label.Groups[1].Value] : field.FieldPath switch
                {
                    "metadata.name" => podName,
                    "metadata.namespace" => "rehearsal",
                    "status.podIP" => podIp,
                    _ => throw new NotSupportedException($"fieldRef {field.FieldPath}"),
                };
            }
            else if (variable.ValueFrom?.SecretKeyRef is { } secret)
            {
                value = secrets[(secret.Name, secret.Key)];
            }
            else
            {
                // $(NAME) expands to an earlier variable; an unknown one stays as written (as Kubernetes does).
                value = Reference().Replace(variable.Value ?? "", m => resolved.GetValueOrDefault(m.Groups[1].Value, m.Value));
            }
            resolved[variable.Name] = value;
        }
        return resolved;
    }

    [GeneratedRegex(@"^metadata\.labels\['([^']+)'\]$")]
    private static partial Regex LabelPath();

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex Reference();
}

/// <summary>A built Huginn host (<c>Silo</c> or <c>Api</c>) as a process with a given environment and nothing inherited from the test's configuration.</summary>
internal sealed class HostProcess
{
    private readonly Process _process;
    private readonly int _healthPort;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    private HostProcess(string name, Process process, int healthPort) => (Name, _process, _healthPort) = (name, process, healthPort);

    public string Name { get; }

    public static HostProcess Start(string name, string project, string dll, Dictionary<string, string> environment, int healthPort)
    {
        var start = new ProcessStartInfo("dotnet", [Built(project, dll)]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var host = new HostProcess(name, process, healthPort);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) host.Keep(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) host.Keep(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits for <c>/healthz/ready</c> to answer 200, as Kubernetes' readiness probe would.</summary>
    public async Task UntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.UntilAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}):\n{Tail()}");
            try { return (await http.GetAsync($"http://127.0.0.1:{_healthPort}/healthz/ready")).StatusCode; }
            catch (HttpRequestException) { return (HttpStatusCode)0; }
            catch (TaskCanceledException) { return (HttpStatusCode)0; }
        }, status => status == HttpStatusCode.OK, $"{Name} ready", timeout);
    }

    /// <summary>SIGKILL: no graceful shutdown.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
    }

    public string Tail() => string.Join("\n", _lines.TakeLast(40));

    private void Keep(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > 200) _lines.TryDequeue(out _);
    }

    private static string Built(string project, string dll)
    {
        var here = Path.GetDirectoryName(typeof(HostProcess).Assembly.Location)!; // Tests/bin/<Configuration>/net10.0
        var configuration = new DirectoryInfo(here).Parent!.Name;
        for (var dir = new DirectoryInfo(here); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, project, "bin", configuration, "net10.0", dll);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"{dll} ({configuration}) not found above {here}; build the solution first.");
    }
}

/// <summary>
/// What a Kubernetes Service does for the workers here: each new TCP connection goes to the next Api in turn, skipping
/// one that refuses; existing connections die with their Api, and the worker's reconnect lands on a live one.
/// </summary>
internal sealed class RoundRobinForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<int> _backends = [];
    private readonly Dictionary<int, int> _workerSockets = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _next;
    private int _nextWorker;

    public RoundRobinForwarder()
    {
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri Url { get; }

    public void Add(int port)
    {
        lock (_backends)
        {
            _backends.Add(port);
            _workerSockets[port] = 0;
        }
    }

    /// <summary>Worker sockets (<c>/v1/workers/connect</c>) now open to each backend, in the order they were added.</summary>
    public int[] WorkerSockets()
    {
        lock (_backends) return _backends.Select(b => _workerSockets[b]).ToArray();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try { inbound = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            _ = Task.Run(() => ForwardAsync(inbound));
        }
    }

    private async Task ForwardAsync(TcpClient inbound)
    {
        using (inbound)
        {
            var a = inbound.GetStream();
            // The request line says whether this is a worker's socket. Worker sockets take turns among themselves, so
            // that the four workers spread two and two whatever the HTTP calls between them did (a Service spreads
            // them evenly on average; this makes the test's spread certain).
            var first = new byte[4096];
            int read;
            try { read = await a.ReadAsync(first, _stop.Token); }
            catch (Exception) { return; }
            if (read == 0) return;
            var worker = System.Text.Encoding.ASCII.GetString(first, 0, read).Contains("/v1/workers/connect");
            int[] order;
            lock (_backends)
            {
                var start = worker ? _nextWorker++ : _next++;
                order = Enumerable.Range(0, _backends.Count).Select(i => _backends[(start + i) % _backends.Count]).ToArray();
            }
            foreach (var port in order)
            {
                using var outbound = new TcpClient();
                try { await outbound.ConnectAsync(IPAddress.Loopback, port, _stop.Token); }
                catch (SocketException) { continue; } // that Api is gone: the next one
                if (worker) lock (_backends) _workerSockets[port]++;
                try
                {
                    await using var b = outbound.GetStream();
                    await b.WriteAsync(first.AsMemory(0, read), _stop.Token);
                    // Either side closing ends both, as a dead pod's connections end.
                    await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
                }
                catch (Exception) { }
                finally
                {
                    if (worker) lock (_backends) _workerSockets[port]--;
                }
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accepting; } catch (Exception) { }
    }
}
