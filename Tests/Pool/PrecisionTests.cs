using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Simulation;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>bf16 jobs: GPUs only, and every audit on the primary's own hardware class (homogeneous redundancy).</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class PrecisionTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Fact]
    public async Task Bf16_shards_run_only_on_gpus_and_each_is_audited_on_its_primarys_hardware_class()
    {
        var classOf = new Dictionary<string, string>();
        foreach (var (vramMb, hardwareClass) in new[] { (24_576L, "gpu-24g"), (24_576L, "gpu-24g"), (8_192L, "gpu-8g") })
        {
            var gpu = await _pool.AddDeviceAsync(kind: DeviceKind.Gpu, vramMb: vramMb, gflops: 1000);
            classOf[gpu.DeviceId] = hardwareClass;
        }
        // Light shards go to the smallest class first, but the 8 GB GPU is alone in its class: a bf16 shard it ran
        // could never be audited, so it gets none. Fast CPUs would win fp32 shards and audits; bf16 ones never.
        var alone = _pool.Devices.Single(d => classOf.TryGetValue(d.DeviceId, out var c) && c == "gpu-8g");
        var cpus = new[] { await _pool.AddDeviceAsync(gflops: 50_000), await _pool.AddDeviceAsync(gflops: 50_000) };
        var client = await _pool.CreateClientAsync(hu: 10);

        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 4) with { Precision = NumericPrecision.Bf16 });
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.All(cpus, cpu => Assert.Empty(cpu.Assignments));
        Assert.Empty(alone.Assignments);
        var runs = _pool.Devices.Where(d => classOf.ContainsKey(d.DeviceId))
            .SelectMany(d => d.Assignments.Where(a => a.JobId == job.JobId).Select(a => (Shard: (a.Shard.Round, a.Shard.Index), Class: classOf[d.DeviceId])))
            .GroupBy(r => r.Shard)
            .ToList();
        Assert.Equal(8, runs.Count);
        // New devices are audited on every shard until their probation ends: the first round's shards all ran twice
        // or more. Every shard's runs, however many, stayed on one class.
        Assert.True(runs.Count(shard => shard.Count() >= 2) >= 4, $"audited shards: {runs.Count(shard => shard.Count() >= 2)}");
        Assert.All(runs, shard => Assert.Single(shard.Select(r => r.Class).Distinct()));
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Bf16_job_is_refused_when_no_gpu_class_has_devices_of_two_contributors()
    {
        await _pool.AddDeviceAsync(kind: DeviceKind.Gpu, vramMb: 24_576, gflops: 1000);
        await _pool.AddDeviceAsync(kind: DeviceKind.Gpu, vramMb: 8_192, gflops: 1000);
        await _pool.AddDeviceAsync(gflops: 1000);
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.TeacherTraining(rounds: 1, shardsPerRound: 2) with { Precision = NumericPrecision.Bf16 };

        var result = await _pool.Grains.GetGrain<IJobGrain>($"job-bf16-{Guid.NewGuid():N}").SubmitAsync(new JobSubmission(client, spec, null));

        Assert.Equal(JobRefusal.InvalidSpec, result.Refusal);
        var error = Assert.Single(result.Errors);
        Assert.Equal("precision", error.Field);
        Assert.Contains("same hardware class", error.Reason);
        Assert.Equal(MicroHu.FromHu(10), (await _pool.AccountAsync(client)).AvailableMicroHu);
        // The same job in fp32 can be audited across classes.
        var fp32 = await _pool.Grains.GetGrain<IEstimatorGrain>(0).EstimateAsync(spec with { Precision = NumericPrecision.Fp32 });
        Assert.Empty(fp32.Errors);
    }
}
