using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class JobPlannerTests
{
    [Theory]
    [InlineData(1000, 4)]
    [InlineData(1003, 10)]
    [InlineData(7, 7)]
    [InlineData(5, 1)]
    [InlineData(100_000, 99_999)]
    public void Slices_of_a_round_cover_the_dataset_exactly_once(long samples, int shards)
    {
        var spec = ExampleSpecs.Infer(samples: samples, shards: shards);

        var plan = JobPlanner.Plan(spec).Shards(0);

        Assert.Equal(shards, plan.Count);
        var next = 0L;
        foreach (var shard in plan)
        {
            Assert.Equal(next, shard.SampleOffset);
            Assert.InRange(shard.SampleCount, samples / shards, (samples + shards - 1) / shards);
            next += shard.SampleCount;
        }
        Assert.Equal(samples, next);
    }

    [Fact]
    public void Slice_boundaries_are_s_times_n_over_s()
    {
        var plan = JobPlanner.Plan(ExampleSpecs.Infer(samples: 10, shards: 4));

        Assert.Equal([(0L, 2), (2L, 3), (5L, 2), (7L, 3)], plan.FirstRoundShards.Select(s => (s.SampleOffset, s.SampleCount)));
    }

    [Fact]
    public void Every_round_trains_on_the_same_slices_with_new_seeds()
    {
        var spec = ExampleSpecs.Train();
        var plan = JobPlanner.Plan(spec);

        var first = plan.Shard(0, 2);
        var later = plan.Shard(2, 2);

        Assert.Equal((first.SampleOffset, first.SampleCount), (later.SampleOffset, later.SampleCount));
        Assert.Equal(DeterministicRandom.Derive(spec.Seed, 0, 2), first.Seed);
        Assert.Equal(DeterministicRandom.Derive(spec.Seed, 2, 2), later.Seed);
        Assert.NotEqual(first.Seed, later.Seed);
        Assert.Equal(first, JobPlanner.Plan(spec).Shard(0, 2));
        Assert.Equal(new ShardPlan(2, 2, 500, 250, later.Seed, later.Flops, 5, 32), later);
    }

    [Fact]
    public void Shards_outside_the_plan_do_not_exist()
    {
        var plan = JobPlanner.Plan(ExampleSpecs.Train());

        Assert.Throws<ArgumentOutOfRangeException>(() => plan.Shard(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.Shard(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.Shard(-1, 0));
    }

    [Fact]
    public void Train_shard_flops_are_steps_times_batch_times_three_forward_passes()
    {
        // mlp 4 → 8 → 2: forward 2·(32 + 16) = 96 FLOPs a sample.
        var plan = JobPlanner.Plan(ExampleSpecs.Train() with { LocalSteps = 5, BatchSize = 32 });

        Assert.Equal(96, plan.FlopsPerSample);
        Assert.Equal(5 * 32 * 3 * 96, plan.FlopsPerShard);
        Assert.All(plan.FirstRoundShards, s => Assert.Equal(5 * 32 * 3 * 96, s.Flops));
        Assert.Equal(5 * 32 * 3 * 96, plan.Requirement.Flops);
        Assert.Equal(3 * 4 * 5 * 32 * 3 * 96.0, plan.TotalFlops);
        Assert.Equal(12, plan.TotalShards);
        Assert.Equal(4 * 8 + 8 + 8 * 2 + 2, plan.ParameterCount);
    }

    [Fact]
    public void A_bf16_shard_runs_on_gpus_only_and_its_flops_count_at_the_bf16_weight()
    {
        var fp32 = JobPlanner.Plan(ExampleSpecs.Train() with { LocalSteps = 5, BatchSize = 32 });
        var bf16 = JobPlanner.Plan(ExampleSpecs.Train() with { LocalSteps = 5, BatchSize = 32, Precision = NumericPrecision.Bf16 });

        // mlp 4 → 8 → 2: 96 fp32 FLOPs a sample forward; in bf16 they count as 96 × 0.5.
        Assert.Equal(48, bf16.FlopsPerSample);
        Assert.Equal(5 * 32 * 3 * 48, bf16.Requirement.Flops);
        Assert.Equal([DeviceKind.Gpu], bf16.Requirement.AllowedKinds);
        Assert.Contains(DeviceKind.Cpu, fp32.Requirement.AllowedKinds);
        Assert.Equal(fp32.Requirement.MinMemoryMb, bf16.Requirement.MinMemoryMb);
    }

    [Fact]
    public void Infer_shard_flops_follow_the_slice_size()
    {
        var plan = JobPlanner.Plan(ExampleSpecs.Infer(samples: 10, shards: 4));

        Assert.Equal([2 * 96L, 3 * 96L, 2 * 96L, 3 * 96L], plan.FirstRoundShards.Select(s => s.Flops));
        Assert.Equal(3 * 96, plan.FlopsPerShard);
        Assert.Equal(10 * 96.0, plan.TotalFlops);
        Assert.All(plan.FirstRoundShards, s => Assert.Equal(0, s.Steps));
    }

    [Fact]
    public void Prep_shard_flops_are_four_per_feature()
    {
        var plan = JobPlanner.Plan(ExampleSpecs.Prep(samples: 1000, shards: 4));

        Assert.Equal(250 * 4 * 4, plan.FlopsPerShard);
        Assert.Equal(0, plan.ParameterCount);
    }

    [Fact]
    public void Training_memory_is_four_copies_of_the_weights_and_two_of_a_batch_of_activations_plus_overhead()
    {
        // mlp 2048 → 2048 → 2048 → 2048: 12,589,056 parameters; 14,336 activation floats a sample.
        var model = ExampleSpecs.Mlp(2048, [2048, 2048], 2048);
        var small = JobPlanner.Plan(ExampleSpecs.Train(model) with { BatchSize = 32 });
        var large = JobPlanner.Plan(ExampleSpecs.Train(model) with { BatchSize = 8192 });

        Assert.Equal(12_589_056, small.ParameterCount);
        Assert.Equal(14_336, ModelRegistry.Get("mlp").ActivationFloatsPerSample(model));
        // ⌈(12,589,056·16 + 32·14,336·8) / 2^20⌉ + 64 = ⌈195.59⌉ + 64
        Assert.Equal(196 + 64, small.Requirement.MinMemoryMb);
        // ⌈(12,589,056·16 + 8192·14,336·8) / 2^20⌉ + 64 = ⌈1088.09⌉ + 64
        Assert.Equal(1089 + 64, large.Requirement.MinMemoryMb);
        // 260 MB is over BrowserShardRule.MaxMemoryMb (256): neither goes to browsers.
        Assert.Equal([DeviceKind.Gpu, DeviceKind.Cpu], small.Requirement.AllowedKinds);
        Assert.Equal([DeviceKind.Gpu, DeviceKind.Cpu], large.Requirement.AllowedKinds);
        Assert.Equal(["torch"], small.Requirement.Runtimes);
    }

    [Fact]
    public void Prep_runs_on_torch_or_javascript()
    {
        var requirement = JobPlanner.Plan(ExampleSpecs.Prep()).Requirement;

        Assert.Equal(["torch", "js"], requirement.Runtimes);
        Assert.True(requirement.Allows(DeviceKind.Browser, 512, ["js"]));
        Assert.Equal(65, requirement.MinMemoryMb);
    }

    [Fact]
    public void Requirement_allows_a_device_with_the_memory_a_runtime_and_an_allowed_kind()
    {
        var requirement = new ShardRequirement(2048, ["torch"], [DeviceKind.Gpu, DeviceKind.Cpu, DeviceKind.Browser], 1000);

        Assert.True(requirement.Allows(DeviceKind.Gpu, 2048, ["onnx", "Torch"]));
        Assert.False(requirement.Allows(DeviceKind.Gpu, 2047, ["torch"]));
        Assert.False(requirement.Allows(DeviceKind.Cpu, 4096, ["js"]));
        Assert.False(requirement.Allows(DeviceKind.Cpu, 4096, []));
        Assert.False(requirement.Allows(DeviceKind.Browser, 4096, ["torch"]));
        Assert.False(new ShardRequirement(512, ["torch"], [DeviceKind.Gpu], 1).Allows(DeviceKind.Cpu, 4096, ["torch"]));
        Assert.True(new ShardRequirement(1024, ["js"], [DeviceKind.Browser], 1).Allows(DeviceKind.Browser, 1024, ["js"]));
    }

    [Fact]
    public void Plan_rejects_an_invalid_spec_naming_the_fields()
    {
        var error = Assert.Throws<ArgumentException>(() => JobPlanner.Plan(ExampleSpecs.Train() with { Rounds = 0, BatchSize = 0 }));

        Assert.Contains("rounds", error.Message);
        Assert.Contains("batchSize", error.Message);
    }

    [Fact]
    public void Shard_records_can_be_written_with_initializers()
    {
        var shard = new ShardPlan { Round = 1, Index = 2, SampleCount = 10 };
        var output = new ShardOutput { Values = [1f], Samples = 3 };

        Assert.Equal(new ShardPlan(1, 2, 0, 10, 0, 0, 0, 0), shard);
        Assert.True(double.IsNaN(output.Loss));
        Assert.Empty(output.Bytes);
    }
}
