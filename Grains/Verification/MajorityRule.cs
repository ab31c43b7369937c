using Huginn.Grains.Interfaces.Verification;
using Huginn.Workloads;

namespace Huginn.Grains.Verification;

/// <summary>
/// Decides an audited shard from the results gathered so far (in arrival order). Pure, so the rule reads and
/// tests on its own: two results that agree within tolerance verify each other; two that disagree need a
/// third; with three, the result that agrees with the most others anchors the majority, everyone within
/// tolerance of it wins, the rest lose; if no two agree, the shard is disputed.
/// </summary>
public static class MajorityRule
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
                var (agree, distance) = Compare(entries[i], entries[j]);
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

    /// <summary>Prep compares by digest of the bytes (computed here, never taken from the device); tensors by relative L2.</summary>
    public static (bool Agree, double Distance) Compare(VerificationEntry a, VerificationEntry b)
    {
        if (a.Kind == WorkloadKind.Prep)
        {
            var same = Digest.Sha256Hex(a.Output.Bytes) == Digest.Sha256Hex(b.Output.Bytes);
            return (same, same ? 0 : 1);
        }
        var distance = TensorComparison.RelativeL2(a.Output.Values, b.Output.Values);
        return (distance <= a.Tolerance, distance);
    }
}
