using Huginn.Worker.Agent;
using Huginn.Worker.Execution;
using Huginn.Worker.Hardware;

var (options, calibrate, error) = WorkerCommandLine.Parse(args, Environment.GetEnvironmentVariable);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}\n\n{WorkerCommandLine.Usage}");
    return 2;
}
void Log(string line) => Console.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");

// Resident memory before and after libtorch loads: what the contributor's machine gives the runtime and libtorch
// before any shard (docs/BENCHMARKS.md, row 8).
var residentBeforeTorchMb = Environment.WorkingSet >> 20;
var profile = HardwareProbe.Detect(options.Threads);
Log($"hardware: {profile.Kind}{(profile.GpuName is null ? "" : $" {profile.GpuName}")}, {profile.Gflops:F1} GFLOP/s measured, {profile.CpuCores} cores, {profile.MemoryMb} MB; "
    + $"resident {residentBeforeTorchMb} MB before libtorch, {Environment.WorkingSet >> 20} MB after the probe");
if (calibrate)
{
    Console.WriteLine(ToleranceCalibration.Format(ToleranceCalibration.Measure(profile)));
    return 0;
}
if (options.Fault != Fault.None) Log($"TEST FAULT '{options.Fault}' is on: this worker will misbehave on purpose and be slashed");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Log("stopping: finishing the current shard, giving back the rest (Ctrl+C again to quit at once)");
    if (stop.IsCancellationRequested) Environment.Exit(130);
    stop.Cancel();
};

var capabilities = TorchShardExecutor.Capabilities(profile, options.Slots);
if (options.Register)
{
    var (deviceId, token) = await DeviceRegistrar.RegisterAsync(options.Api, options.ApiKey!, options.Name, capabilities, stop.Token);
    Log(DeviceRegistrar.Announce(deviceId, token, options));
    options = options with { DeviceToken = token };
}
else if (options.DeviceToken is null && options.TokenFile is { } tokenFile)
{
    options = options with { DeviceToken = DeviceRegistrar.ReadToken(tokenFile) };
}

var agent = new WorkerAgent(options, capabilities, new TorchShardExecutor(profile), Log);
await agent.RunAsync(stop.Token);
Log($"stopped after {agent.Accepted.Shards} shard(s) worth {Huginn.Workloads.MicroHu.ToHu(agent.Accepted.MicroHu)} HU once verified");
return 0;
