namespace Huginn.Workloads;

/// <summary>
/// The exact size of a valid shard output, computed from the spec (by the edge and the coordinator alike, never
/// taken from a device). A result of any other size is malformed and never reaches verification or a model.
/// </summary>
public static class OutputShape
{
    public static (int Values, int Bytes) Expected(JobSpec spec, ShardPlan shard)
    {
        var model = spec.Model is { } m ? ModelRegistry.Get(m.Type) : null;
        // An evaluation shard returns [mean loss, accuracy] (EvaluationMetrics.ToShardOutput), whatever the model.
        if (shard.Evaluate) return (2, 0);
        return spec.Kind switch
        {
            WorkloadKind.Train => (checked((int)model!.ParameterCount(spec.Model!)), 0),
            WorkloadKind.Infer => (checked(shard.SampleCount * model!.OutputsPerSample(spec.Model!)), 0),
            WorkloadKind.Prep => (0, checked(shard.SampleCount * model!.FeaturesPerSample(spec.Model!))),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "unknown workload kind"),
        };
    }

    /// <summary>The size of a valid result as stored: the float32 values (little-endian) followed by the raw bytes.</summary>
    public static long ExpectedResultBytes(JobSpec spec, ShardPlan shard)
    {
        var (values, bytes) = Expected(spec, shard);
        return (long)values * sizeof(float) + bytes;
    }
}
