namespace Huginn.Workloads;

/// <summary>One problem with a spec: the camelCase JSON path of the field (e.g. "model.hiddenSizes[1]") and why.</summary>
[GenerateSerializer, Immutable, Alias("huginn.spec-error")]
public sealed record SpecError(
    [property: Id(0)] string Field,
    [property: Id(1)] string Reason);
