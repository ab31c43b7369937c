namespace Huginn.Workloads;

/// <summary>Validation rules and formulas the model definitions share.</summary>
internal static class ModelChecks
{
    /// <summary>Bounds every width so that the formulas stay far from overflow; the parameter cap does the rest.</summary>
    public const int MaxWidth = 1 << 20;
    public const int MaxHiddenLayers = 64;

    public static void Range(List<SpecError> errors, string field, int value, int min, int max)
    {
        if (value < min || value > max) errors.Add(new SpecError(field, $"must be between {min} and {max}"));
    }

    public static void Widths(List<SpecError> errors, string field, int[]? widths, int minCount, int maxCount, int maxWidth)
    {
        if (widths is null || widths.Length < minCount || widths.Length > maxCount)
        {
            errors.Add(new SpecError(field, $"must list between {minCount} and {maxCount} sizes"));
            return;
        }
        for (var i = 0; i < widths.Length; i++)
        {
            Range(errors, $"{field}[{i}]", widths[i], 1, maxWidth);
        }
    }

    /// <summary>The rules on the last layer, the activation and the loss, common to every type.</summary>
    public static void Head(List<SpecError> errors, ModelSpec m)
    {
        Range(errors, "model.outputSize", m.OutputSize, 1, MaxWidth);
        if (m.Activation is not (ModelSpec.Relu or ModelSpec.Tanh))
            errors.Add(new SpecError("model.activation", $"must be \"{ModelSpec.Relu}\" or \"{ModelSpec.Tanh}\""));
        if (m.Loss is not (ModelSpec.Mse or ModelSpec.CrossEntropy))
            errors.Add(new SpecError("model.loss", $"must be \"{ModelSpec.Mse}\" or \"{ModelSpec.CrossEntropy}\""));
        else if (m.Loss == ModelSpec.CrossEntropy && m.OutputSize == 1)
            errors.Add(new SpecError("model.outputSize", "cross_entropy needs at least 2 classes"));
    }

    /// <summary>A derived input size may be restated in InputSize, but must then agree.</summary>
    public static void DerivedInput(List<SpecError> errors, ModelSpec m, long derived, string derivedFrom)
    {
        if (m.InputSize != 0 && m.InputSize != derived)
            errors.Add(new SpecError("model.inputSize", $"must be 0 or {derivedFrom} ({derived})"));
    }

    public static int Targets(ModelSpec m) => m.Loss == ModelSpec.CrossEntropy ? 1 : m.OutputSize;
}
