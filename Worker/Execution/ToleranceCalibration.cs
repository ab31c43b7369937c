using System.Globalization;
using System.Text;
using Huginn.Worker.Hardware;
using Huginn.Workloads;
using TorchSharp;

namespace Huginn.Worker.Execution;

/// <summary>
/// Measures how far apart honest results of the same shard are, to set the verification tolerances from
/// figures rather than guesses (docs/VERIFICATION.md): the TorchSharp executor against itself, across thread
/// counts, and against the C# reference executor; in bf16 also against its own fp32 result.
/// </summary>
public static class ToleranceCalibration
{
    private sealed record Case(string Name, JobSpec Spec, int Round, bool Reference);

    /// <summary>
    /// Runs the first <paramref name="shards"/> shards (at most 16) of each representative case — mlp regression
    /// on teacher data (also after ten rounds of training, and as a long shard of <paramref name="longSteps"/>
    /// steps), mlp classification on blobs, cnn, transformer, and inference of each, then the mlp, cnn and transformer
    /// again in bf16 (which libtorch runs on a CPU too, so the bf16 path is measured wherever this runs) — and reports the smallest,
    /// median and largest relative L2 distance of every comparison, with a train shard one step short as the
    /// dishonest yardstick. Changes libtorch's thread count while it runs (process-wide) and restores it: run it
    /// alone, not beside shards.
    /// </summary>
    public static CalibrationReport Measure(HardwareProfile profile, int shards = 16, int longSteps = SpecValidator.MaxLocalSteps)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shards);
        ArgumentOutOfRangeException.ThrowIfLessThan(longSteps, 2);
        var executor = new TorchExecutor(profile);
        var tolerances = new ToleranceOptions();
        var threads = torch.get_num_threads();
        var figures = new List<CalibrationFigure>();
        try
        {
            foreach (var c in Cases(longSteps))
            {
                var plan = JobPlanner.Plan(c.Spec);
                var weights = WeightsAtRound(executor, c.Spec, plan, c.Round);
                var distances = new Dictionary<CalibrationComparison, List<double>>
                {
                    [CalibrationComparison.Repeat] = [],
                    [CalibrationComparison.Threads] = [],
                };
                if (c.Reference) distances[CalibrationComparison.Reference] = [];
                if (c.Spec.Kind == WorkloadKind.Train) distances[CalibrationComparison.OneStepShort] = [];
                var bf16 = NumericPrecision.IsBf16(c.Spec);
                if (bf16) distances[CalibrationComparison.Fp32] = [];

                for (var index = 0; index < Math.Min(shards, plan.ShardsPerRound); index++)
                {
                    var shard = plan.Shard(c.Round, index);
                    var data = ShardData.Load(c.Spec, shard);
                    torch.set_num_threads(threads);
                    var first = executor.Execute(c.Spec, shard, weights, data);
                    var second = executor.Execute(c.Spec, shard, weights, data);
                    distances[CalibrationComparison.Repeat].Add(TensorComparison.RelativeL2(first.Values, second.Values));

                    torch.set_num_threads(1);
                    var one = executor.Execute(c.Spec, shard, weights, data);
                    torch.set_num_threads(2);
                    var two = executor.Execute(c.Spec, shard, weights, data);
                    distances[CalibrationComparison.Threads].Add(TensorComparison.RelativeL2(one.Values, two.Values));

                    if (c.Reference)
                    {
                        var reference = ReferenceExecutor.Execute(c.Spec, shard, weights, data);
                        distances[CalibrationComparison.Reference].Add(TensorComparison.RelativeL2(first.Values, reference.Values));
                    }
                    if (bf16)
                    {
                        var full = executor.Execute(c.Spec with { Precision = NumericPrecision.Fp32 }, shard, weights, data);
                        distances[CalibrationComparison.Fp32].Add(TensorComparison.RelativeL2(first.Values, full.Values));
                    }
                    if (c.Spec.Kind == WorkloadKind.Train)
                    {
                        var shortcut = executor.Execute(c.Spec, shard with { Steps = shard.Steps - 1 }, weights, data);
                        distances[CalibrationComparison.OneStepShort].Add(TensorComparison.RelativeL2(first.Values, shortcut.Values));
                    }
                }
                var tolerance = tolerances.For(c.Spec.Kind, c.Spec.Precision);
                var steps = c.Spec.Kind == WorkloadKind.Train ? c.Spec.LocalSteps : 0;
                foreach (var (comparison, values) in distances)
                {
                    figures.Add(new CalibrationFigure(
                        c.Name, c.Spec.Kind, c.Spec.Precision, steps, comparison, values.Count, values.Min(), Median(values), values.Max(), values.Count(d => d > tolerance)));
                }
            }
        }
        finally
        {
            torch.set_num_threads(threads);
        }
        return new CalibrationReport(profile.TorchDevice, threads, figures);
    }

    /// <summary>
    /// The report as a console table, then for each kind the largest honest distance against the default
    /// tolerance, and how far the smallest shortcut lands from the honest result.
    /// </summary>
    public static string Format(CalibrationReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.AppendLine(invariant, $"Tolerance calibration on {r.Device} ({r.Threads} threads): relative L2 between two results of the same shard");
        text.AppendLine(invariant, $"{"case",-32} {"kind",-5} {"prec",-4} {"steps",5} {"comparison",-12} {"shards",6} {"min",9} {"median",9} {"max",9} {"> tol",5}");
        foreach (var f in r.Figures)
        {
            text.AppendLine(invariant, $"{f.Case,-32} {Name(f.Kind),-5} {f.Precision,-4} {f.Steps,5} {Name(f.Comparison),-12} {f.Shards,6} {f.Min,9:0.00e+00} {f.Median,9:0.00e+00} {f.Max,9:0.00e+00} {f.OverTolerance,5}");
        }
        var tolerances = new ToleranceOptions();
        foreach (var precision in new[] { NumericPrecision.Fp32, NumericPrecision.Bf16 })
        {
            foreach (var kind in new[] { WorkloadKind.Train, WorkloadKind.Infer })
            {
                if (!r.Covers(kind, precision)) continue;
                var max = r.Max(kind, precision);
                var tolerance = tolerances.For(kind, precision);
                var (over, compared) = r.OverTolerance(kind, precision);
                var verdict = over > 0
                    ? $"{over} of {compared} over it"
                    : max > 0 ? $"margin ×{tolerance / max:0.#e+00}" : "every result identical";
                var shortcut = r.SmallestShortcut(kind, precision);
                var caught = double.IsFinite(shortcut) ? $"; one step short: at least {shortcut:0.00e+00}" : "";
                text.AppendLine(invariant, $"{Name(kind)} {precision}: largest honest {max:0.00e+00}, default tolerance {tolerance:0.#e+00} ({verdict}){caught}");
            }
        }
        return text.ToString();
    }

    private static IEnumerable<Case> Cases(int longSteps)
    {
        var teacher = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Teacher, Samples = 8192, Seed = 7, Noise = 1 };
        var blobs = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = 8192, Seed = 5, Noise = 1 };
        var mlpRegression = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 32, HiddenSizes = [64, 64], OutputSize = 8 };
        var mlpClasses = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 32, HiddenSizes = [64], OutputSize = 8, Activation = ModelSpec.Tanh, Loss = ModelSpec.CrossEntropy };
        var cnn = new ModelSpec { Type = ModelSpec.Cnn, Channels = 1, ImageSize = 16, ConvChannels = [8, 16], HiddenSizes = [32], OutputSize = 10, Loss = ModelSpec.CrossEntropy };
        var transformer = new ModelSpec
        {
            Type = ModelSpec.Transformer,
            VocabSize = 64,
            SequenceLength = 16,
            ModelDim = 32,
            Heads = 4,
            Layers = 2,
            FeedForwardDim = 64,
            OutputSize = 4,
            Loss = ModelSpec.CrossEntropy,
        };

        JobSpec Train(ModelSpec m, SyntheticDatasetSpec d, int steps = 10, int rounds = 1) => new()
        {
            Kind = WorkloadKind.Train,
            Model = m,
            Dataset = new DatasetSpec { Synthetic = d },
            Rounds = rounds,
            ShardsPerRound = 16,
            LocalSteps = steps,
            BatchSize = 32,
            LearningRate = 0.1f,
            Seed = 11,
        };
        JobSpec Infer(ModelSpec m, SyntheticDatasetSpec d) => new()
        {
            Kind = WorkloadKind.Infer,
            Model = m,
            Dataset = new DatasetSpec { Synthetic = d with { Samples = 2048 } },
            ShardsPerRound = 16,
            Seed = 11,
        };

        yield return new Case("mlp teacher mse relu", Train(mlpRegression, teacher), 0, Reference: true);
        // Late in training the gradients are small, so the same float32 rounding of the weights is a larger share of the delta.
        yield return new Case("mlp teacher mse relu, round 10", Train(mlpRegression, teacher, rounds: 11), 10, Reference: true);
        // Many steps give a ReLU more chances to land on the other side of zero on one device, which changes the
        // gradient discontinuously; training then amplifies the difference.
        yield return new Case("mlp teacher mse relu, long", Train(mlpRegression, teacher, steps: longSteps), 0, Reference: true);
        yield return new Case("mlp blobs cross_entropy tanh", Train(mlpClasses, blobs), 0, Reference: true);
        yield return new Case("cnn blobs cross_entropy relu", Train(cnn, blobs), 0, Reference: false);
        yield return new Case("transformer blobs cross_entropy", Train(transformer, blobs with { Noise = 0.3 }), 0, Reference: false);
        yield return new Case("mlp teacher", Infer(mlpRegression, teacher), 0, Reference: true);
        yield return new Case("cnn blobs", Infer(cnn, blobs), 0, Reference: false);
        yield return new Case("transformer blobs", Infer(transformer, blobs with { Noise = 0.3 }), 0, Reference: false);

        JobSpec Bf16(JobSpec spec) => spec with { Precision = NumericPrecision.Bf16 };
        yield return new Case("mlp teacher mse relu", Bf16(Train(mlpRegression, teacher)), 0, Reference: false);
        yield return new Case("mlp blobs cross_entropy tanh", Bf16(Train(mlpClasses, blobs)), 0, Reference: false);
        yield return new Case("cnn blobs cross_entropy relu", Bf16(Train(cnn, blobs)), 0, Reference: false);
        yield return new Case("transformer blobs cross_entropy", Bf16(Train(transformer, blobs with { Noise = 0.3 })), 0, Reference: false);
        yield return new Case("mlp teacher", Bf16(Infer(mlpRegression, teacher)), 0, Reference: false);
        yield return new Case("cnn blobs", Bf16(Infer(cnn, blobs)), 0, Reference: false);
        yield return new Case("transformer blobs", Bf16(Infer(transformer, blobs with { Noise = 0.3 })), 0, Reference: false);
    }

    /// <summary>The initial weights trained for <paramref name="round"/> rounds with the TorchSharp executor, as the pool would.</summary>
    private static float[] WeightsAtRound(TorchExecutor executor, JobSpec spec, JobPlan plan, int round)
    {
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        for (var r = 0; r < round; r++)
        {
            var average = new FederatedAverage(weights.Length);
            foreach (var shard in plan.Shards(r))
            {
                var output = executor.Execute(spec, shard, weights, ShardData.Load(spec, shard));
                average.Add(output.Values, output.Samples);
            }
            weights = average.ApplyTo(weights);
        }
        return weights;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static string Name(WorkloadKind kind) => kind.ToString().ToLowerInvariant();

    private static string Name(CalibrationComparison comparison) => comparison switch
    {
        CalibrationComparison.Repeat => "repeat",
        CalibrationComparison.Threads => "1 vs 2 thr",
        CalibrationComparison.Reference => "reference",
        CalibrationComparison.Fp32 => "vs fp32",
        _ => "1 step short",
    };
}
