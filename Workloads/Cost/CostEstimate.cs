namespace Huginn.Workloads;

/// <summary>
/// What a job will cost, in micro-HU: the work, the expected audits, the pool fee on both, and their total in
/// HU and €. The client escrows the total; what is not spent is refunded.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.cost-estimate")]
public sealed record CostEstimate(
    [property: Id(0)] long WorkMicroHu,
    [property: Id(1)] long AuditMicroHu,
    [property: Id(2)] long FeeMicroHu,
    [property: Id(3)] long TotalMicroHu,
    [property: Id(4)] decimal Eur,
    [property: Id(5)] int Shards,
    [property: Id(6)] double AuditFraction);
