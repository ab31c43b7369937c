using Huginn.Grains.Interfaces.Verification;
using Huginn.Workloads;

namespace Huginn.Grains.Rules;

/// <summary>
/// The verification rule: when two results of one shard agree, and who wins an audited shard. Pure, so the rule
/// reads and tests on its own; the verification grain gathers the results and applies <see cref="Decide"/>.
/// <list type="bullet">
/// <item>Agreement (<see cref="Agree"/>, the only agreement test in the pool): results that processed different
/// sample counts never agree; prep results agree when their bytes hash the same (computed here, never taken
/// from a device); train and infer results when their relative L2 distance is within the shard's
/// <see cref="Tolerance"/>.</item>
/// <item>Majority (<see cref="Decide"/>, results in arrival order): two results that agree verify each other; two
/// that disagree need a third; with three, the result that agrees with the most others anchors the majority,
/// everyone within tolerance of it wins, the rest lose; if no two agree, the shard is disputed.</item>
/// </list>
/// </summary>
public static class Verification
{
    /// <summary>
    /// Decides from the results gathered so far, in arrival order. <paramref name="distance"/> gives the relative L2
    /// distance of two train or infer results (the verification grain measures it by streaming their blobs).
    /// </summary>
    public static VerificationDecision Decide(IReadOnlyList<VerificationEntry> entries, Func<VerificationEntry, VerificationEntry, double> distance)
    {
        if (entries.Count < 2) return VerificationDecision.Awaiting;

        var n = entries.Count;
        var agrees = new bool[n, n];
        var distances = new List<double>();
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var (agree, d) = Agree(entries[i], entries[j], distance);
                agrees[i, j] = agrees[j, i] = agree;
                distances.Add(d);
            }
        }

        var anchor = -1;
        var anchorVotes = 0;
        for (var i = 0; i < n; i++)
        {
            var votes = Enumerable.Range(0, n).Count(j => j != i && agrees[i, j]);
            if (votes > anchorVotes) (anchor, anchorVotes) = (i, votes);
        }

        if (anchor < 0)
        {
            return new VerificationDecision(n >= 3 ? VerificationStatus.Disputed : VerificationStatus.NeedsTieBreak, [], [], distances.ToArray(), null);
        }

        var winners = Enumerable.Range(0, n).Where(i => i == anchor || agrees[anchor, i]).ToList();
        if (winners.Count * 2 <= n)
        {
            // Two of four cannot happen with at most three results; kept so that the rule stays a strict majority.
            return new VerificationDecision(VerificationStatus.Disputed, [], [], distances.ToArray(), null);
        }
        var losers = Enumerable.Range(0, n).Except(winners);
        return new VerificationDecision(
            VerificationStatus.Decided,
            winners.Select(i => entries[i].DeviceId).ToArray(),
            losers.Select(i => entries[i].DeviceId).ToArray(),
            distances.ToArray(),
            entries[winners.Min()].Result);
    }

    /// <summary>Whether two gathered results agree, and how far apart they are (0 or 1 for prep).</summary>
    public static (bool Agree, double Distance) Agree(VerificationEntry a, VerificationEntry b, Func<VerificationEntry, VerificationEntry, double> distance) =>
        Agree(a.Kind, a.Result.Samples, b.Result.Samples, a.Result.Loss, b.Result.Loss,
            sameBytes: () => a.Result.BlobId == b.Result.BlobId,
            distance: () => distance(a, b),
            // The wider of the two: each result carries its device class's tolerance (Tolerance.For), and an audit with
            // a browser on either side is compared at the browser's. Within one job every entry has the same precision.
            Math.Max(a.Tolerance, b.Tolerance));

    /// <summary>The same rule for two results held in memory (the worker's calibration, tests).</summary>
    public static (bool Agree, double Distance) Agree(WorkloadKind kind, ShardOutput a, ShardOutput b, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Agree(kind, a.Samples, b.Samples, a.Loss, b.Loss,
            sameBytes: () => Digest.Sha256Hex(a.Bytes) == Digest.Sha256Hex(b.Bytes),
            distance: () => TensorComparison.RelativeL2(a.Values, b.Values),
            tolerance);
    }

    /// <summary>
    /// The one agreement test. Two results over different sample counts did not run the same shard, however close
    /// their numbers; two whose losses differ beyond the tolerance (<see cref="ResultIntegrity.LossesAgree"/>) do not
    /// report the same run, so a right tensor cannot carry a made-up loss into the client's metrics. Prep results
    /// agree when their bytes are the same (compared by digest, which for blobs is their id: computed by the store,
    /// never taken from a device). Tensors agree within the tolerance.
    /// </summary>
    private static (bool Agree, double Distance) Agree(WorkloadKind kind, long samplesA, long samplesB, double lossA, double lossB,
        Func<bool> sameBytes, Func<double> distance, double tolerance)
    {
        if (samplesA != samplesB) return (false, double.PositiveInfinity);
        if (!ResultIntegrity.LossesAgree(lossA, lossB, kind == WorkloadKind.Prep ? 0 : tolerance)) return (false, double.PositiveInfinity);
        if (kind == WorkloadKind.Prep)
        {
            var same = sameBytes();
            return (same, same ? 0 : 1);
        }
        var d = distance();
        return (Tolerance.Within(d, tolerance), d);
    }
}
