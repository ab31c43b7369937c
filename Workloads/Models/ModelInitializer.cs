namespace Huginn.Workloads;

/// <summary>
/// The starting weights of a model, PyTorch-like and identical on every machine: weights and biases uniform in
/// ±1/sqrt(fan-in), LayerNorm weights 1 and biases 0, embeddings standard normal.
/// </summary>
public static class ModelInitializer
{
    /// <summary>The flat weight vector in <see cref="IModelDefinition.Layout"/> order.</summary>
    /// <remarks>Tensor t draws from its own stream <c>Derive(seed, t)</c>, so one tensor can be rebuilt alone.</remarks>
    public static float[] Initialize(ModelSpec m, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(m);
        var definition = ModelRegistry.Get(m.Type);
        var errors = definition.Validate(m).ToList();
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid model: {string.Join("; ", errors.Select(e => $"{e.Field} {e.Reason}"))}", nameof(m));

        var count = definition.ParameterCount(m);
        if (count > Array.MaxLength) throw new ArgumentException($"A model of {count} parameters does not fit in one array.", nameof(m));
        var weights = new float[count];
        var offset = 0;
        var layout = definition.Layout(m);
        for (var t = 0; t < layout.Count; t++)
        {
            var tensor = layout[t];
            var span = weights.AsSpan(offset, checked((int)tensor.Size));
            Fill(span, tensor, new DeterministicRandom(DeterministicRandom.Derive(seed, t)));
            offset += span.Length;
        }
        return weights;
    }

    private static void Fill(Span<float> span, ParameterTensor tensor, DeterministicRandom random)
    {
        switch (tensor.Init)
        {
            case ParameterInit.Ones:
                span.Fill(1f);
                break;
            case ParameterInit.Zeros:
                span.Clear();
                break;
            case ParameterInit.Normal:
                for (var i = 0; i < span.Length; i++) span[i] = (float)random.NextGaussian();
                break;
            case ParameterInit.Uniform:
                var bound = tensor.FanIn > 0 ? 1.0 / Math.Sqrt(tensor.FanIn) : 0.0;
                for (var i = 0; i < span.Length; i++) span[i] = (float)((2 * random.NextDouble() - 1) * bound);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(tensor), tensor.Init, "Unknown initialisation.");
        }
    }
}
