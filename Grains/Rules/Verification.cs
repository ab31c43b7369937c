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
    public static VerificationDecision Decide(IReadOnlyList<VerificationEntry> entries)
    {
        if (entries.Count < 2) return VerificationDecision.Awaiting;

        var n = entries.Count;
        var agrees = new bool[n, n];
        var distances = new List<double>();
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var (agree, distance) = Agree(entries[i], entries[j]);
                agrees[i, j] = agrees[j, i] = agree;
                distances.Add(distance);
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
            return n >= 3
                ? new VerificationDecision(VerificationStatus.Disputed, [], [], null, distances.ToArray())
                : new VerificationDecision(VerificationStatus.NeedsTieBreak, [], [], null, distances.ToArray());
        }

        var winners = Enumerable.Range(0, n).Where(i => i == anchor || agrees[anchor, i]).ToList();
        if (winners.Count * 2 <= n)
        {
            // Two of four cannot happen with at most three results; kept so that the rule stays a strict majority.
            return new VerificationDecision(VerificationStatus.Disputed, [], [], null, distances.ToArray());
        }
        var losers = Enumerable.Range(0, n).Except(winners);
        return new VerificationDecision(
            VerificationStatus.Decided,
            winners.Select(i => entries[i].DeviceId).ToArray(),
            losers.Select(i => entries[i].DeviceId).ToArray(),
            entries[winners.Min()].Output,
            distances.ToArray());
    }

    /// <summary>Whether two results of the same shard agree, and how far apart they are (0 or 1 for prep).</summary>
    public static (bool Agree, double Distance) Agree(VerificationEntry a, VerificationEntry b) =>
        Agree(a.Kind, a.Output, b.Output, Math.Min(a.Tolerance, b.Tolerance));

    /// <inheritdoc cref="Agree(VerificationEntry, VerificationEntry)"/>
    public static (bool Agree, double Distance) Agree(WorkloadKind kind, ShardOutput a, ShardOutput b, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        // Two results over different sample counts did not run the same shard, however close their numbers.
        if (a.Samples != b.Samples) return (false, double.PositiveInfinity);
        if (kind == WorkloadKind.Prep)
        {
            var same = Digest.Sha256Hex(a.Bytes) == Digest.Sha256Hex(b.Bytes);
            return (same, same ? 0 : 1);
        }
        var distance = TensorComparison.RelativeL2(a.Values, b.Values);
        return (Tolerance.Within(distance, tolerance), distance);
    }
}
