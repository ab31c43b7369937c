using Huginn.Worker.Execution;
using Huginn.Worker.Hardware;
using Huginn.Workloads;

namespace Huginn.Worker.Agent;

/// <summary>The real executor: TorchSharp on the device chosen once at start-up.</summary>
public sealed class TorchShardExecutor(HardwareProfile profile) : IShardExecutor
{
    private readonly TorchExecutor _torch = new(profile);

    public ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data) =>
        _torch.Execute(spec, shard, weights, data);

    /// <param name="slots">Leases the worker holds at once (<see cref="WorkerOptions.Slots"/>); it runs them one at a time.</param>
    public static Huginn.Protocol.DeviceCapabilitiesDto Capabilities(HardwareProfile profile, int slots = 1) =>
        new(profile.Kind, profile.GpuName, profile.VramMb, Math.Round(profile.Gflops, 1), profile.CpuCores, profile.MemoryMb, profile.Runtimes, slots);
}
