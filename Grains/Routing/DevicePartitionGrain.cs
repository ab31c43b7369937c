using Microsoft.Extensions.DependencyInjection;
using Huginn.Grains.Interfaces.Routing;
using Microsoft.Extensions.Options;

namespace Huginn.Grains.Routing;

/// <summary>
/// Online devices of one slice of one hardware class. Soft state in memory only: device grains refresh
/// their entries every heartbeat-check period, so a lost partition is rebuilt within one period.
/// </summary>
public sealed class DevicePartitionGrain(IOptions<PoolOptions> options, [FromKeyedServices(PoolClock.Key)] TimeProvider time) : Grain, IDevicePartitionGrain
{
    private readonly PoolOptions _options = options.Value;
    /// <summary>
    /// In ordinal id order, so that the routing rule (Rules.Routing.Choose), which keeps the first of equal scores, gives a tie to the lowest id
    /// without reading the tied devices' ids (a cold cache miss per device: most devices of a class tie).
    /// </summary>
    private readonly SortedList<string, (DeviceSlotEntry Entry, DateTimeOffset SeenAt)> _devices = new(StringComparer.Ordinal);
    private PartitionSummary? _lastReported;

    /// <summary>True until a first report, and while one has failed: the next upsert reports again, whatever it carries.</summary>
    private bool _reportPending = true;
    private long _lastReportedAtMs;

    /// <summary>
    /// The directory is soft state too: an unchanged summary is still re-sent this often, so a directory that
    /// was deactivated or lost with its silo is whole again within one interval (real time, not a pool rule).
    /// </summary>
    private const long ReReportAfterMs = 30_000;

    public async Task UpsertAsync(DeviceSlotEntry entry)
    {
        var known = _devices.TryGetValue(entry.DeviceId, out var previous);
        _devices[entry.DeviceId] = (entry, time.GetUtcNow());
        // Most upserts are a device's periodic refresh (every DeviceCheckInterval) with nothing the directory sees
        // changed: the summary is a scan of the whole partition, so it is recomputed only when it may differ.
        if (known && !_reportPending && SameForDirectory(previous.Entry, entry) && !ReReportDue) return;
        await ReportIfChangedAsync();
    }

    public Task RefreshAsync(DeviceSlotEntry entry) => UpsertAsync(entry);

    private bool ReReportDue => Environment.TickCount64 - _lastReportedAtMs >= ReReportAfterMs;

    /// <summary>The fields of an entry that <see cref="ReportIfChangedAsync"/> summarizes (busy slots, reliability and cache are not).</summary>
    private static bool SameForDirectory(DeviceSlotEntry a, DeviceSlotEntry b) =>
        a.Kind == b.Kind && a.WorkingMemoryMb == b.WorkingMemoryMb && a.Gflops == b.Gflops && a.Slots == b.Slots
        && a.AuditRate == b.AuditRate && a.OwnerAccountId == b.OwnerAccountId && a.Runtimes.AsSpan().SequenceEqual(b.Runtimes);

    public async Task RemoveAsync(string deviceId)
    {
        if (_devices.Remove(deviceId)) await ReportIfChangedAsync();
    }

    public async Task<RouteDecision?> TryReserveAsync(RouteRequest request)
    {
        await DropStaleAsync();
        var choice = Rules.Routing.Choose(_devices.Values.Select(d => d.Entry), request, _options);
        if (choice is not { } chosen) return null;

        // The reservation holds until the device grain's next refresh reports its real open leases.
        var (entry, seenAt) = _devices[chosen.Device.DeviceId];
        _devices[entry.DeviceId] = (entry with { BusySlots = entry.BusySlots + 1 }, seenAt);
        var hardwareClass = this.GetPrimaryKeyString().Split('/')[0];
        return new RouteDecision(entry.DeviceId, entry.OwnerAccountId, hardwareClass, chosen.ExpectedSeconds);
    }

    public async Task<bool> AnyEligibleAsync(RouteRequest request)
    {
        await DropStaleAsync();
        return _devices.Values.Any(d => Rules.Routing.IsEligible(d.Entry, request, _options));
    }

    public Task ReleaseAsync(string deviceId)
    {
        if (_devices.TryGetValue(deviceId, out var d) && d.Entry.BusySlots > 0)
            _devices[deviceId] = (d.Entry with { BusySlots = d.Entry.BusySlots - 1 }, d.SeenAt);
        return Task.CompletedTask;
    }

    /// <summary>An entry nobody refreshed for three heartbeat timeouts belongs to a device grain that is gone.</summary>
    private async Task DropStaleAsync()
    {
        // Runs before every reservation: a plain scan that allocates only when there is something to drop.
        var cutoff = time.GetUtcNow() - 3 * _options.HeartbeatTimeout;
        List<string>? stale = null;
        foreach (var (id, device) in _devices)
        {
            if (device.SeenAt < cutoff) (stale ??= []).Add(id);
        }
        if (stale is null) return;
        foreach (var id in stale) _devices.Remove(id);
        await ReportIfChangedAsync();
    }

    /// <summary>Reports to the directory only when what routers filter on changed: membership, memory, speed, runtimes.</summary>
    private async Task ReportIfChangedAsync()
    {
        var key = this.GetPrimaryKeyString();
        var entries = _devices.Values.Select(d => d.Entry).ToList();
        var summary = new PartitionSummary
        {
            PartitionKey = key,
            HardwareClass = key.Split('/')[0],
            Kind = entries.Count > 0 ? entries[0].Kind : default,
            DevicesOnline = entries.Count,
            MaxMemoryMb = entries.Count > 0 ? entries.Max(e => e.WorkingMemoryMb) : 0,
            MaxGflops = entries.Count > 0 ? entries.Max(e => e.Gflops) : 0,
            TotalGflops = entries.Sum(e => e.Gflops),
            Runtimes = entries.SelectMany(e => e.Runtimes).Distinct().Order().ToArray(),
            TotalSlots = entries.Sum(e => e.Slots),
            // Rounded so that every verdict does not become a directory report; estimates need two decimals.
            AuditRateSum = Math.Round(entries.Sum(e => e.AuditRate), 2),
            OwnerSample = entries.Select(e => e.OwnerAccountId).Distinct().Order(StringComparer.Ordinal).Take(PartitionSummary.OwnerSampleSize).ToArray(),
        };
        if (_lastReported is { } last && last.DevicesOnline == summary.DevicesOnline && last.MaxMemoryMb == summary.MaxMemoryMb
            && last.MaxGflops == summary.MaxGflops && last.TotalGflops == summary.TotalGflops
            && last.Runtimes.SequenceEqual(summary.Runtimes) && last.TotalSlots == summary.TotalSlots
            && last.AuditRateSum == summary.AuditRateSum
            && last.OwnerSample.SequenceEqual(summary.OwnerSample)
            && !ReReportDue)
        {
            // The directory already holds this summary (a failed report changed nothing it knows).
            _reportPending = false;
            return;
        }
        _reportPending = true;
        await GrainFactory.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key).ReportAsync(summary);
        _lastReported = summary;
        _lastReportedAtMs = Environment.TickCount64;
        _reportPending = false;
    }
}
