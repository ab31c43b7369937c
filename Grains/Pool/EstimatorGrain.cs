using Huginn.Blobs;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Grains.Jobs;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Routing;
using Huginn.Grains.Rules;
using Huginn.Workloads;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Huginn.Grains.Pool;

/// <summary>
/// Prices specs against the devices online now. The audit fraction is the mean audit rate of the devices that
/// could run the job (new devices: 100%); the wall time is the queued work plus this job's work (audits included)
/// over the capable capacity at the pool's compute efficiency, plus a shard overhead per round.
/// </summary>
[StatelessWorker]
public sealed class EstimatorGrain(IOptions<PoolOptions> options, IBlobStore blobs) : Grain, IEstimatorGrain
{
    private readonly PoolOptions _options = options.Value;

    public async Task<JobEstimate> EstimateForAsync(string clientAccountId, JobSpec spec)
    {
        var errors = await SubmissionChecks.RunAsync(GrainFactory, blobs, spec, clientAccountId);
        return errors.Count > 0 ? new JobEstimate(null, 0, errors, _options.Pricing.EurPerHu) : await EstimateAsync(spec);
    }

    public async Task<JobEstimate> EstimateAsync(JobSpec spec)
    {
        var errors = SpecValidator.Validate(spec);
        if (errors.Count > 0) return new JobEstimate(null, 0, errors, _options.Pricing.EurPerHu);

        var plan = JobPlanner.Plan(spec);
        var snapshot = await GrainFactory.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key).GetSnapshotAsync();
        var load = await GrainFactory.GetGrain<IPoolLoadGrain>(IPoolLoadGrain.Key).GetAsync();
        var requirement = plan.Requirement;
        var capable = snapshot.Partitions
            .Where(p => requirement.Allows(p.Kind, p.MaxMemoryMb, p.Runtimes))
            .Where(p => Rules.Routing.CanFinishWithinLease(plan.FlopsPerShard, p.MaxGflops, 1, _options.MaxLeaseDuration, _options))
            .ToList();
        if (capable.Count == 0)
        {
            return new JobEstimate(null, 0,
                [new SpecError("spec", $"no device online can run it: a shard needs {requirement.MinMemoryMb} MB, runtime {string.Join(" or ", requirement.Runtimes)}, "
                    + $"kind {string.Join(" or ", requirement.AllowedKinds.Select(k => k.ToString().ToLowerInvariant()))}, and {plan.FlopsPerShard:G3} FLOP within {_options.MaxLeaseDuration}")],
                _options.Pricing.EurPerHu);
        }

        // An audit runs on another owner's device: with one contributor online, new devices could never be verified.
        if (capable.SelectMany(p => p.OwnerSample).Distinct().Count() < 2)
        {
            return new JobEstimate(null, 0,
                [new SpecError("spec", "the devices online that can run it all belong to one contributor; verification needs devices of at least two")],
                _options.Pricing.EurPerHu);
        }
        // A bf16 audit runs on the primary's own hardware class (Routing.AuditClass): some class needs two owners.
        if (NumericPrecision.IsBf16(spec) && !capable.GroupBy(p => p.HardwareClass).Any(c => c.SelectMany(p => p.OwnerSample).Distinct().Count() >= 2))
        {
            return new JobEstimate(null, 0,
                [new SpecError("precision", "bf16 shards are audited on the same hardware class, and no GPU class online has devices of two contributors; use \"fp32\"")],
                _options.Pricing.EurPerHu);
        }

        var devices = capable.Sum(p => p.DevicesOnline);
        var auditFraction = Math.Round(capable.Sum(p => p.AuditRateSum) / devices, 4);
        var cost = Pricing.Estimate(plan, auditFraction, _options.Pricing);
        var flopsPerSecond = capable.Sum(p => p.TotalGflops) * 1e9 * _options.ComputeEfficiency;
        var work = load.QueuedFlops + plan.TotalFlops * (1 + auditFraction);
        var eta = work / flopsPerSecond + plan.Rounds * _options.ShardOverhead.TotalSeconds;
        return new JobEstimate(cost, Math.Round(eta, 1), [], _options.Pricing.EurPerHu);
    }

    public async Task<PoolOverview> OverviewAsync()
    {
        var snapshot = await GrainFactory.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key).GetSnapshotAsync();
        var load = await GrainFactory.GetGrain<IPoolLoadGrain>(IPoolLoadGrain.Key).GetAsync();
        var byKind = snapshot.Partitions.GroupBy(p => Huginn.Grains.Interfaces.Devices.HardwareClass.Kind(p.Kind))
            .ToDictionary(g => g.Key, g => g.Sum(p => p.DevicesOnline));
        var online = snapshot.DevicesOnline;
        var meanAudit = online == 0 ? 1.0 : Math.Round(snapshot.Partitions.Sum(p => p.AuditRateSum) / online, 4);
        return new PoolOverview(online, byKind, Math.Round(snapshot.GflopsOnline, 1), load, _options.Pricing.EurPerHu, meanAudit);
    }
}
