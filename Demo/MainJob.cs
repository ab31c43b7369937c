using Huginn.Api.Apis;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Protocol;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;

namespace Huginn.Demo;

/// <summary>
/// The pool's main job: three contributors each run a TorchSharp worker (Mallory's returns wrong results on
/// purpose), a client uploads a dataset and trains a classifier across them, and everyone sees what happened.
/// </summary>
public sealed class MainJob(LocalPool pool, IGrainFactory grains, TextWriter console)
{
    private static readonly ModelSpec Model = new()
    {
        Type = ModelSpec.Mlp, InputSize = 8, HiddenSizes = [32], OutputSize = 3, Loss = ModelSpec.CrossEntropy,
    };
    private const int Samples = 6_000;
    private const ulong Seed = 2026;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var anonymous = new PoolClient(pool.ApiUrl);
        var profile = HardwareProbe.Detect(threads: 1);
        console.WriteLine($"pool up at {pool.ApiUrl} · this machine: {profile.Kind}, {profile.Gflops:F1} GFLOP/s per worker thread");

        // Contributors and their workers.
        var contributors = new List<(string Name, PoolClient Client, string DeviceId, WorkerAgent Agent)>();
        using var workersStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workerTasks = new List<Task>();
        foreach (var (name, fault) in new[] { ("alice", Fault.None), ("bob", Fault.None), ("mallory", Fault.Wrong) })
        {
            var account = await anonymous.CreateAccountAsync(name, "contributor");
            var client = anonymous.As(account.ApiKey);
            var capabilities = TorchShardExecutor.Capabilities(profile);
            var device = await client.RegisterDeviceAsync($"{name}-cpu", capabilities);
            var agent = new WorkerAgent(
                new WorkerOptions { Api = pool.ApiUrl, DeviceToken = device.DeviceToken, Fault = fault },
                capabilities, new TorchShardExecutor(profile), line => { if (line.Contains("refused") || line.Contains("banned")) console.WriteLine($"  [{name}] {line}"); });
            workerTasks.Add(Task.Run(() => agent.RunAsync(workersStop.Token), CancellationToken.None));
            contributors.Add((name, client, device.DeviceId, agent));
            console.WriteLine($"worker {name,-8} {device.DeviceId}{(fault == Fault.None ? "" : "  (TEST FAULT: returns wrong results)")}");
        }
        foreach (var c in contributors)
            await WaitAsync(async () => (await c.Client.DeviceAsync(c.DeviceId)).Status == "online", $"{c.Name}'s worker coming online", cancellationToken);

        // The client: buy HU, upload a dataset, price and submit the job.
        var clientAccount = await anonymous.CreateAccountAsync("carol", "client");
        using var carol = anonymous.As(clientAccount.ApiKey);
        await carol.BuyAsync(1);
        var dataset = SyntheticData.Generate(new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = Samples, Seed = Seed, Noise = 1.5 }, Model, 0, Samples);
        var blobId = await carol.UploadAsync(SyntheticData.ToF32(dataset));
        var spec = new JobSpec
        {
            Kind = WorkloadKind.Train, Model = Model,
            Dataset = new DatasetSpec { BlobId = blobId, Samples = Samples, Format = DatasetSpec.F32 },
            Rounds = 6, ShardsPerRound = 6, LocalSteps = 25, BatchSize = 32, LearningRate = 0.1f, Seed = Seed,
        };
        var submitted = await carol.SubmitAsync(spec);
        console.WriteLine($"job {submitted.JobId}: {spec.Rounds} rounds × {spec.ShardsPerRound} shards on an uploaded dataset of {Samples} rows ({blobId[..12]}…)");
        console.WriteLine($"estimate: {submitted.Estimate.Hu} HU (€{submitted.Estimate.Eur}) escrowed, audit overhead {submitted.Estimate.Breakdown.AuditHu} HU included");

        var job = await FollowAsync(carol, submitted.JobId, cancellationToken);
        await WaitAsync(async () => (await carol.MeAsync()).EscrowHu == 0, "the escrow settling", cancellationToken);

        // What the client got.
        var initial = ModelInitializer.Initialize(Model, Seed);
        var final = job.State == "completed" ? WeightsFormat.FromBytes(await carol.ResultAsync(submitted.JobId)) : initial;
        console.WriteLine();
        console.WriteLine($"model:   loss {ReferenceExecutor.Evaluate(Model, initial, dataset):F4} → {ReferenceExecutor.Evaluate(Model, final, dataset):F4}, "
            + $"accuracy {Accuracy(initial, dataset):P1} → {Accuracy(final, dataset):P1}  (job {job.State})");

        // What verification did.
        console.WriteLine($"verification: {job.Progress.ShardsVerified} of {job.Progress.ShardsTotal} shards audited on a second device; caught: "
            + (job.DevicesCaught.Length == 0 ? "nobody" : string.Join(", ", job.DevicesCaught.Select(id => contributors.First(c => c.DeviceId == id).Name))));
        foreach (var c in contributors)
        {
            var d = await c.Client.DeviceAsync(c.DeviceId);
            console.WriteLine($"  {c.Name,-8} {d.Status,-7} verified {d.Verified,3} · unaudited {d.Unaudited,3} · invalid {d.Invalid} · reputation {d.Reputation:F2} · audit rate {d.AuditRate:P0}");
        }

        // Where every HU went.
        console.WriteLine("accounts (HU):");
        foreach (var c in contributors)
        {
            var a = await c.Client.MeAsync();
            console.WriteLine($"  {c.Name,-8} balance {a.BalanceHu,10} · pending {a.PendingHu,10} · earned {a.EarnedHu,10}");
        }
        var me = await carol.MeAsync();
        console.WriteLine($"  {"carol",-8} balance {me.BalanceHu,10} · spent {job.SpentHu} · refunded {job.RefundedHu}");
        foreach (var system in new[] { SystemAccounts.Fees, SystemAccounts.Slashed })
        {
            var a = await grains.GetGrain<IAccountGrain>(system).GetAsync();
            console.WriteLine($"  {system,-12} {MicroHu.ToHu(a.HoldingsMicroHu),10}");
        }
        var audit = await grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
        console.WriteLine($"ledger: {MicroHu.ToHu(audit.MintedMicroHu)} HU minted, {MicroHu.ToHu(audit.HeldMicroHu)} HU held across {audit.Accounts} accounts — {(audit.Balanced ? "balanced" : "OUT OF BALANCE")}");

        workersStop.Cancel();
        await Task.WhenAll(workerTasks);
        return job.State == "completed" && audit.Balanced ? 0 : 1;
    }

    private async Task<JobResponse> FollowAsync(PoolClient client, string jobId, CancellationToken cancellationToken)
    {
        var last = "";
        while (true)
        {
            var job = await client.JobAsync(jobId);
            var p = job.Progress;
            var measured = job.Metrics.VerifiedLosses;
            var loss = measured.Length > 0 ? $" · loss {measured[^1]:F4}" : "";
            var line = $"  {job.State,-9} round {p.Round}/{p.Rounds} · shards {p.ShardsDone}/{p.ShardsTotal} done, {p.ShardsVerified} verified{loss}"
                + (job.DevicesCaught.Length > 0 ? $" · caught {job.DevicesCaught.Length}" : "");
            if (line != last) console.WriteLine(line);
            last = line;
            if (job.State is "completed" or "failed" or "cancelled") return job;
            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            try
            {
                await Task.Delay(100, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{what} did not happen within 60 s");
            }
        }
    }

    private static double Accuracy(float[] weights, DataSlice data)
    {
        var infer = new JobSpec { Kind = WorkloadKind.Infer, Model = Model, Dataset = new DatasetSpec { Samples = data.Count } };
        var outputs = ReferenceExecutor.Execute(infer, new ShardPlan(0, 0, 0, data.Count, 0, 0, 0, 0), weights, data).Values;
        var correct = 0;
        for (var i = 0; i < data.Count; i++)
        {
            var row = outputs.AsSpan(i * Model.OutputSize, Model.OutputSize);
            if (row.IndexOf(MaxOf(row)) == (int)data.Targets[i]) correct++;
        }
        return (double)correct / data.Count;
    }

    private static float MaxOf(ReadOnlySpan<float> row)
    {
        var max = row[0];
        foreach (var v in row) max = Math.Max(max, v);
        return max;
    }
}
