using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Ledger;
using Microsoft.Extensions.Logging;

namespace Huginn.Grains.Jobs;

/// <summary>
/// Applies a job's decided transfers and verdicts. Each is idempotent (transfers by their id, verdicts by lease
/// id), so a replay after a crash is harmless. Transfers go to the escrow account in one call; verdicts go to
/// their devices side by side, each device's in order. What could not be applied stays in the outbox for the
/// next flush (the job's sweep retries).
/// </summary>
public static class JobOutbox
{
    /// <returns>Whether anything was removed from the outboxes (the job must persist them).</returns>
    public static async Task<bool> FlushAsync(IGrainFactory grains, string jobId, List<Transfer> transfers, List<PendingVerdict> verdicts, ILogger logger)
    {
        if (transfers.Count == 0 && verdicts.Count == 0) return false;
        var sending = transfers.ToList();
        var paid = PayAsync(grains, jobId, sending, logger);
        var recorded = Task.WhenAll(verdicts.ToList().GroupBy(v => v.DeviceId).Select(group => RecordVerdictsAsync(grains, jobId, group, logger)));
        await Task.WhenAll(paid, recorded);

        if (await paid)
        {
            var sent = sending.ToHashSet(ReferenceEqualityComparer.Instance);
            transfers.RemoveAll(sent.Contains);
        }
        var done = (await recorded).SelectMany(r => r).ToHashSet(ReferenceEqualityComparer.Instance);
        verdicts.RemoveAll(done.Contains);
        return true;
    }

    /// <summary>Pays from the escrow; false (and everything stays in the outbox) when the account could not be reached.</summary>
    private static async Task<bool> PayAsync(IGrainFactory grains, string jobId, List<Transfer> transfers, ILogger logger)
    {
        if (transfers.Count == 0) return true;
        TransferOutcome[] outcomes;
        try
        {
            outcomes = await grains.GetGrain<IAccountGrain>(SystemAccounts.Escrow(jobId)).TransferManyAsync(transfers);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId}: {Count} transfer(s) not applied yet; will retry", jobId, transfers.Count);
            return false;
        }
        for (var i = 0; i < transfers.Count; i++)
        {
            if (outcomes[i] is not (TransferOutcome.Applied or TransferOutcome.Duplicate))
                logger.LogError("Job {JobId}: transfer {TransferId} was refused ({Outcome})", jobId, transfers[i].TransferId, outcomes[i]);
        }
        return true;
    }

    /// <summary>One device's verdicts in order; returns those applied, stopping at the first that could not be.</summary>
    private static async Task<List<PendingVerdict>> RecordVerdictsAsync(IGrainFactory grains, string jobId, IEnumerable<PendingVerdict> deviceVerdicts, ILogger logger)
    {
        var recorded = new List<PendingVerdict>();
        foreach (var pending in deviceVerdicts)
        {
            try
            {
                await grains.GetGrain<IDeviceGrain>(pending.DeviceId).RecordVerdictAsync(pending.Notice);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Job {JobId}: verdict for lease {LeaseId} not applied to {DeviceId} yet; will retry",
                    jobId, pending.Notice.LeaseId, pending.DeviceId);
                break;
            }
            recorded.Add(pending);
        }
        return recorded;
    }
}
