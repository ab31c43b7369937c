namespace Huginn.Workloads;

/// <summary>
/// What an evaluation shard measures of a round's weights on validation rows: the mean loss (the training loss's
/// definition, per sample), the accuracy for cross_entropy (argmax equals the label; ties go to the lower index, as
/// torch.argmax), and the samples counted. Tiny on purpose: a device returns these, never the outputs.
/// </summary>
public sealed record EvaluationMetrics(double MeanLoss, double? Accuracy, long Samples)
{
    /// <summary>
    /// As a shard's values: [mean loss, accuracy] (accuracy 0 for mse, which has none), so that an evaluation shard is
    /// audited like any other: two devices' vectors are compared within the tolerance (Verification), and a device
    /// that reports other metrics than it measured is outvoted.
    /// </summary>
    public ShardOutput ToShardOutput() => new([(float)MeanLoss, (float)(Accuracy ?? 0)], [], MeanLoss, Samples);

    /// <summary>The metrics an accepted evaluation result holds (values as <see cref="ToShardOutput"/> writes them).</summary>
    public static EvaluationMetrics FromValues(ReadOnlySpan<float> values, long samples, ModelSpec model)
    {
        if (values.Length != 2) throw new ArgumentException($"An evaluation result holds 2 values, not {values.Length}.", nameof(values));
        return new EvaluationMetrics(values[0], model.Loss == ModelSpec.CrossEntropy ? values[1] : null, samples);
    }
}

/// <summary>The reference evaluation (plain C#, mlp): what the TorchSharp worker's evaluation is checked against.</summary>
public static class ShardEvaluation
{
    /// <summary>The metrics of <paramref name="weights"/> over every row of <paramref name="data"/>, summed in float64.</summary>
    public static EvaluationMetrics Evaluate(ModelSpec model, ReadOnlySpan<float> weights, DataSlice data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("An evaluation needs rows.", nameof(data));
        var meanLoss = ReferenceExecutor.Evaluate(model, weights, data);
        if (model.Loss != ModelSpec.CrossEntropy) return new EvaluationMetrics(meanLoss, null, data.Count);

        var network = new MlpNetwork(model);
        var correct = 0L;
        for (var i = 0; i < data.Count; i++)
        {
            network.Forward(weights, data.FeaturesOf(i));
            if (ArgMax(network.Output) == (int)data.TargetsOf(i)[0]) correct++;
        }
        return new EvaluationMetrics(meanLoss, (double)correct / data.Count, data.Count);
    }

    /// <summary>The first index of the largest output (torch.argmax breaks ties the same way on CPU).</summary>
    public static int ArgMax(ReadOnlySpan<double> outputs)
    {
        var best = 0;
        for (var o = 1; o < outputs.Length; o++) if (outputs[o] > outputs[best]) best = o;
        return best;
    }
}
