namespace Huginn.Workloads;

/// <summary>HU amounts are integers of micro-HU inside the pool (the ledger never rounds); decimals of HU outside.</summary>
public static class MicroHu
{
    public const long PerHu = 1_000_000;

    /// <summary>Micro-HU in an HU amount; a fraction of a micro-HU is dropped (toward zero).</summary>
    public static long FromHu(decimal hu) => (long)decimal.Truncate(hu * PerHu);

    public static decimal ToHu(long micro) => (decimal)micro / PerHu;
}
