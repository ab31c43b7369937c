using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>
/// A real worker in its own process (this executable with <c>--row4-worker API TOKEN</c>), so that the pool host's
/// process CPU is the host's alone. The child reports each shard's compute on stdout ("span WALL CPU") and stops
/// when its stdin closes.
/// </summary>
internal sealed class WorkerProcess
{
    public const string Flag = "--row4-worker";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    /// <summary>Wall and thread CPU seconds of each shard the worker computed.</summary>
    public ConcurrentBag<(double Seconds, double CpuSeconds)> Spans { get; } = [];

    private WorkerProcess(Process process) => _process = process;

    public static WorkerProcess Start(Uri api, string deviceToken)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Run as "dotnet Huginn.Benchmarks.dll" the process path is the muxer: the assembly goes first.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(WorkerProcess).Assembly.Location);
        foreach (var arg in new[] { Flag, api.ToString(), deviceToken }) start.ArgumentList.Add(arg);
        var worker = new WorkerProcess(Process.Start(start) ?? throw new InvalidOperationException("the worker process did not start"));
        worker._process.OutputDataReceived += (_, e) => worker.Read(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Read(e.Data);
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    private void Read(string? line)
    {
        if (line is null) return;
        var parts = line.Split(' ');
        if (parts is ["span", var wall, var cpu])
        {
            Spans.Add((double.Parse(wall, CultureInfo.InvariantCulture), double.Parse(cpu, CultureInfo.InvariantCulture)));
            return;
        }
        _log.Enqueue(line);
        while (_log.Count > 50) _log.TryDequeue(out _);
    }

    public string LastLines => string.Join("\n", _log);

    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
    }

    /// <summary>The child's side: one worker on one torch thread until stdin closes.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var profile = HardwareProbe.Detect(threads: 1);
        var capabilities = TorchShardExecutor.Capabilities(profile, WorkerOptions.DefaultSlots);
        using var stop = new CancellationTokenSource();
        var stdin = Task.Run(async () =>
        {
            await Console.In.ReadToEndAsync();
            await stop.CancelAsync();
        });
        var agent = new WorkerAgent(new WorkerOptions { Api = new Uri(args[0]), DeviceToken = args[1], ShutdownGrace = TimeSpan.Zero, Slots = WorkerOptions.DefaultSlots },
            capabilities, new SpanExecutor(new TorchShardExecutor(profile)), line => Console.Out.WriteLine($"[worker] {line}"));
        await agent.RunAsync(stop.Token);
        return 0;
    }

    private sealed class SpanExecutor(IShardExecutor inner) : IShardExecutor
    {
        public ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data)
        {
            var clock = Stopwatch.StartNew();
            var cpu = Row4CpuClock.ThreadSeconds();
            var output = inner.Execute(spec, shard, weights, data);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"span {clock.Elapsed.TotalSeconds:F4} {Row4CpuClock.ThreadSeconds() - cpu:F4}"));
            return output;
        }
    }
}
