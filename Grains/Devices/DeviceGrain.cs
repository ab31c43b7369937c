using Microsoft.Extensions.DependencyInjection;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Rules;
using Huginn.Workloads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace Huginn.Grains.Devices;

/// <summary>
/// A contributed device. It is the only grain that accepts results, and only for leases it holds open.
/// It never waits on a job (results and lost leases go to jobs one-way), so a job may always wait on it.
/// </summary>
public sealed class DeviceGrain(
    [PersistentState("device", StorageNames.State)] IPersistentState<DeviceState> state,
    IOptions<PoolOptions> options,
    [FromKeyedServices(PoolClock.Key)] TimeProvider time,
    ILogger<DeviceGrain> logger) : Grain, IDeviceGrain
{
    private readonly PoolOptions _options = options.Value;
    private DeviceState S => state.State;
    private string DeviceId => this.GetPrimaryKeyString();
    private DateTimeOffset _lastHeartbeat;
    private IGrainTimer? _watchdog;
    private string? _connectionId;

    /// <summary>
    /// The leases this device holds open: what it may accept a result for. Memory only, so that a lease costs the
    /// device one state write (its verdict), not three: the job's state is the record of a lease, and this is the
    /// device's working copy. A device grain that restarts forgets its open leases; a result for a forgotten lease is
    /// refused (NotLeased), and the job's deadline re-runs the shard on another device, unpaid here.
    /// </summary>
    private readonly Dictionary<string, OpenLease> _openLeases = [];

    /// <summary>Releases within the window (<see cref="ReleaseLimit"/>), and the end of a cool-down they triggered. Memory only, like the leases.</summary>
    private readonly Queue<DateTimeOffset> _recentReleases = new();
    private DateTimeOffset? _coolingUntil;

    /// <summary>Whether routing may see the device: online and not cooling down after too many releases.</summary>
    private bool Routable => S.Status == DeviceStatus.Online && _coolingUntil is null;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // After a restart, give a device that was online one full timeout to heartbeat again.
        _lastHeartbeat = time.GetUtcNow();
        if (S.Status == DeviceStatus.Online) StartWatchdog();
        return Task.CompletedTask;
    }

    public async Task<DeviceRegistrationResult> RegisterAsync(DeviceRegistration registration)
    {
        var errors = registration.Capabilities.Validate().ToList();
        if (string.IsNullOrWhiteSpace(registration.Name) || registration.Name.Length > 100)
            errors.Add(new SpecError("name", "must be 1 to 100 characters"));
        if (string.IsNullOrWhiteSpace(registration.OwnerAccountId))
            errors.Add(new SpecError("ownerAccountId", "is required"));
        if (S.Registered && S.OwnerAccountId != registration.OwnerAccountId)
            errors.Add(new SpecError("deviceId", "belongs to another owner"));
        if (errors.Count > 0) return new DeviceRegistrationResult(null, errors);

        S.Registered = true;
        S.Name = registration.Name;
        S.OwnerAccountId = registration.OwnerAccountId;
        S.Capabilities = registration.Capabilities;
        var previousClass = S.HardwareClass;
        S.HardwareClass = HardwareClass.Of(registration.Capabilities);
        await state.WriteStateAsync();
        if (S.Status == DeviceStatus.Online)
        {
            if (previousClass != S.HardwareClass) await PartitionFor(previousClass).RemoveAsync(DeviceId);
            await RefreshPartitionAsync();
        }
        return new DeviceRegistrationResult(View(), []);
    }

    public async Task<DeviceStatus> HeartbeatAsync(DeviceHeartbeat heartbeat)
    {
        if (!S.Registered || S.Status == DeviceStatus.Banned) return S.Status;
        _lastHeartbeat = time.GetUtcNow();
        var cacheChanged = !heartbeat.CachedBlobIds.AsSpan().SequenceEqual(S.CachedBlobIds);
        S.CachedBlobIds = heartbeat.CachedBlobIds.Take(256).ToArray();
        if (S.Status == DeviceStatus.Offline)
        {
            S.Status = DeviceStatus.Online;
            await state.WriteStateAsync();
            StartWatchdog();
            logger.LogInformation("Device {DeviceId} ({Class}) is online", DeviceId, S.HardwareClass);
            await RefreshPartitionAsync();
        }
        else if (cacheChanged)
        {
            await RefreshPartitionAsync();
        }
        return S.Status;
    }

    public async Task DisconnectAsync()
    {
        if (S.Status == DeviceStatus.Online) await GoOfflineAsync(LeaseEndReason.DeviceOffline);
    }

    public async Task<DeviceStatus> AttachConnectionAsync(string connectionId)
    {
        if (!S.Registered || S.Status == DeviceStatus.Banned) return S.Status;
        var previous = _connectionId;
        _connectionId = connectionId;
        if (previous is not null && previous != connectionId)
            await CommandStream().OnNextAsync(new ConnectionReplaced(connectionId));
        return await HeartbeatAsync(DeviceHeartbeat.Empty);
    }

    public async Task DetachConnectionAsync(string connectionId)
    {
        if (_connectionId != connectionId) return;
        _connectionId = null;
        await DisconnectAsync();
    }

    /// <summary>
    /// The device gives a lease back unfinished. It costs the device (<see cref="ReleaseLimit"/>): its record counts the
    /// release, too many in a window park it out of routing for a cool-down, and its owner never gets that shard again.
    /// </summary>
    public async Task ReleaseLeaseAsync(string leaseId, string? reason, string code)
    {
        if (string.IsNullOrEmpty(leaseId) || !_openLeases.Remove(leaseId, out var lease)) return;
        S.Record = Slashing.LeaseReleased(S.Record);
        await state.WriteStateAsync();
        if (ReleaseLimit.Record(_recentReleases, time.GetUtcNow(), _options) is { } until)
        {
            logger.LogWarning("Device {DeviceId} gave back more than {Max} leases within {Window}; out of routing until {Until}",
                DeviceId, _options.MaxReleasesPerWindow, _options.ReleaseWindow, until);
            _coolingUntil = until;
            if (S.Status == DeviceStatus.Online) await PartitionFor(S.HardwareClass).RemoveAsync(DeviceId);
        }
        else if (Routable)
        {
            await RefreshSlotsAsync();
        }
        await GrainFactory.GetGrain<IJobGrain>(lease.Shard.JobId).LeaseLostAsync(leaseId, DeviceId, LeaseEndReason.Released, malformed: false, reason, ShardErrorCodes.Normalize(code));
    }

    public Task<bool> MayReadBlobAsync(string blobId) =>
        Task.FromResult(S.Status != DeviceStatus.Banned && _openLeases.Values.Any(l => Array.IndexOf(l.InputBlobIds, blobId) >= 0));

    public Task<DeviceView?> GetAsync() => Task.FromResult(S.Registered ? View() : null);

    public async Task<LeaseOffer> OfferAsync(ShardAssignment assignment, ShardRef shard)
    {
        var capabilities = S.Capabilities;
        if (!Routable || capabilities is null || _openLeases.Count >= capabilities.Slots)
        {
            // The router reserved a slot on a stale entry: correct it (which gives the slot back), so that the job
            // never has to know which partition a device lives in.
            if (Routable && capabilities is not null) await RefreshSlotsAsync();
            else if (capabilities is not null) await PartitionFor(S.HardwareClass).RemoveAsync(DeviceId);
            return new LeaseOffer(false, 1.0);
        }
        var (values, bytes) = OutputShape.Expected(assignment.Spec, assignment.Shard);
        _openLeases[assignment.LeaseId] = new OpenLease(shard, assignment.Deadline, values, bytes, time.GetUtcNow(), assignment.Shard.Flops,
            assignment.Spec.Kind, ResultIntegrity.ExpectedSamples(assignment.Spec.Kind, assignment.Shard),
            [.. assignment.InputBlobIds, .. assignment.WeightsBlobId is { } weights ? [weights] : Array.Empty<string>()]);
        await CommandStream().OnNextAsync(assignment);
        // No refresh: the router reserved this slot in the partition already (row 1 counted one refresh per offer).
        return new LeaseOffer(true, AuditPolicy.Rate(S.Record, _options));
    }

    public async Task<ResultReceipt> SubmitResultAsync(ShardResult result)
    {
        if (S.Status == DeviceStatus.Banned || !_openLeases.Remove(result.LeaseId, out var lease))
        {
            return ResultReceipt.NotLeased;
        }
        // The edge checked the bytes (size, finite values) before storing them; the size is checked again here because
        // the lease, not the edge, is what defines it.
        var expectedBytes = (long)lease.ExpectedValues * sizeof(float) + lease.ExpectedBytes;
        var problem = result.Result.Bytes != expectedBytes
            ? $"{result.Result.Bytes} bytes where the shard's output takes {expectedBytes}"
            : ResultIntegrity.Problem(lease.Kind, lease.ExpectedSamples, result.Result.Loss, result.Result.Samples);
        // Before the slot is freed, so that the partition's refresh carries the new speed.
        if (problem is null) ObserveSpeed(lease);
        await FreeSlotAsync();
        if (problem is not null) return await LoseAsMalformedAsync(result.LeaseId, lease, problem);
        await GrainFactory.GetGrain<IJobGrain>(lease.Shard.JobId).DeliverResultAsync(result.LeaseId, DeviceId, result.Result);
        return ResultReceipt.Accepted;
    }

    public async Task<ResultReceipt> RejectResultAsync(string leaseId, string reason)
    {
        if (S.Status == DeviceStatus.Banned || !_openLeases.Remove(leaseId, out var lease)) return ResultReceipt.NotLeased;
        await FreeSlotAsync();
        return await LoseAsMalformedAsync(leaseId, lease, reason);
    }

    /// <summary>
    /// One more sample of the device's speed from a result of the right size (whether it is right is the audit's
    /// business: a wrong result computed fast says nothing false about speed). In memory until the next state write;
    /// the partition sees it with the next refresh.
    /// </summary>
    private void ObserveSpeed(OpenLease lease)
    {
        var sample = ObservedSpeed.Sample(lease.Flops, time.GetUtcNow() - lease.OfferedAt, S.Capabilities?.Slots ?? 1, _options);
        if (sample is { } gflops) S.Speed = ObservedSpeed.Update(S.Speed, gflops);
    }

    /// <summary>
    /// The slot a result frees is in the partition before the job hears of the result: the job's next dispatch then
    /// finds it, instead of missing it and probing partition after partition (a one-way refresh raced the result
    /// and lost often enough to cost ~2 failed reservations per shard in row 1). A partition that cannot be reached
    /// is repaired by the next periodic refresh.
    /// </summary>
    private async Task FreeSlotAsync()
    {
        if (!Routable) return;
        try
        {
            await RefreshPartitionAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Device {DeviceId}: its partition did not take the freed slot now; the next refresh will", DeviceId);
        }
    }

    /// <summary>A malformed answer is an answer: the lease is spent, and the job counts it as an invalid verdict (Slashing).</summary>
    private async Task<ResultReceipt> LoseAsMalformedAsync(string leaseId, OpenLease lease, string reason)
    {
        logger.LogWarning("Device {DeviceId} sent a malformed result for {Shard}: {Reason}", DeviceId, lease.Shard, reason);
        await GrainFactory.GetGrain<IJobGrain>(lease.Shard.JobId).LeaseLostAsync(leaseId, DeviceId, LeaseEndReason.Completed, malformed: true, reason, code: null);
        return ResultReceipt.Malformed;
    }

    public async Task EndLeaseAsync(string leaseId, LeaseEndReason reason)
    {
        if (!_openLeases.Remove(leaseId)) return;
        if (reason == LeaseEndReason.Expired)
        {
            S.Record = Slashing.LeasesLost(S.Record, 1);
            await state.WriteStateAsync();
        }
        if (S.Status == DeviceStatus.Online)
        {
            await CommandStream().OnNextAsync(new LeaseRevoked(leaseId, reason));
            if (Routable) await RefreshSlotsAsync();
        }
    }

    public async Task RecordVerdictAsync(VerdictNotice notice)
    {
        if (!S.TryApplyVerdict(notice.LeaseId)) return;
        Telemetry.PoolMeters.VerdictApplied(notice.Verdict);
        S.Record = Slashing.Apply(S.Record, notice.Verdict);
        await state.WriteStateAsync();

        var effects = Slashing.Consequences(DeviceId, S.Record, notice.Verdict, S.Status == DeviceStatus.Banned, _options);
        if (effects.ForfeitTransferId is { } forfeitId)
        {
            var forfeited = await GrainFactory.GetGrain<IAccountGrain>(S.OwnerAccountId).ForfeitPendingAsync(DeviceId, forfeitId, SystemAccounts.Slashed);
            logger.LogWarning("Device {DeviceId} returned an invalid result for {Shard}; forfeited {Forfeited} micro-HU pending",
                DeviceId, notice.Shard, forfeited);
        }
        if (effects.Ban)
        {
            await BanAsync();
            return;
        }
        // An unaudited verdict moves neither reliability nor the audit rate: nothing routing sees has changed.
        if (Routable && notice.Verdict != Verdict.Unaudited) await RefreshSlotsAsync();
    }

    private async Task BanAsync()
    {
        Telemetry.PoolMeters.DeviceBanned();
        logger.LogWarning("Device {DeviceId} is banned after {Invalid} invalid verdicts", DeviceId, S.Record.Invalid);
        var wasOnline = S.Status == DeviceStatus.Online;
        await ReleaseAllLeasesAsync(LeaseEndReason.DeviceBanned);
        S.Status = DeviceStatus.Banned;
        S.BannedAt = time.GetUtcNow();
        S.CachedBlobIds = [];
        await state.WriteStateAsync();
        StopWatchdog();
        if (wasOnline) await PartitionFor(S.HardwareClass).RemoveAsync(DeviceId);
        // A ban forfeits everything still pending, whatever it was earned on.
        await GrainFactory.GetGrain<IAccountGrain>(S.OwnerAccountId)
            .ForfeitPendingAsync(DeviceId, Slashing.BanForfeitTransferId(DeviceId), SystemAccounts.Slashed);
    }

    private async Task GoOfflineAsync(LeaseEndReason reason)
    {
        logger.LogInformation("Device {DeviceId} is offline ({Reason}); {Leases} lease(s) go back to their jobs",
            DeviceId, reason, _openLeases.Count);
        await ReleaseAllLeasesAsync(reason);
        S.Status = DeviceStatus.Offline;
        // What the worker had cached says nothing once it is gone (a reconnect starts from an empty list, see
        // AttachConnectionAsync); kept, it cost ~70 B of stored state per blob id for every offline device.
        S.CachedBlobIds = [];
        await state.WriteStateAsync();
        StopWatchdog();
        await PartitionFor(S.HardwareClass).RemoveAsync(DeviceId);
    }

    private async Task ReleaseAllLeasesAsync(LeaseEndReason reason)
    {
        var leases = _openLeases.ToArray();
        _openLeases.Clear();
        if (reason == LeaseEndReason.DeviceOffline) S.Record = Slashing.LeasesLost(S.Record, leases.Length);
        foreach (var (leaseId, lease) in leases)
        {
            await GrainFactory.GetGrain<IJobGrain>(lease.Shard.JobId).LeaseLostAsync(leaseId, DeviceId, reason, malformed: false, detail: null, code: null);
        }
    }

    private void StartWatchdog()
    {
        _watchdog ??= this.RegisterGrainTimer(CheckHeartbeatAsync, new GrainTimerCreationOptions
        {
            DueTime = _options.DeviceCheckInterval,
            Period = _options.DeviceCheckInterval,
            KeepAlive = true,
        });
    }

    private void StopWatchdog()
    {
        _watchdog?.Dispose();
        _watchdog = null;
    }

    private async Task CheckHeartbeatAsync(CancellationToken cancellationToken)
    {
        if (S.Status != DeviceStatus.Online) return;
        if (time.GetUtcNow() - _lastHeartbeat > _options.HeartbeatTimeout)
        {
            await GoOfflineAsync(LeaseEndReason.DeviceOffline);
            return;
        }
        if (_coolingUntil is { } until)
        {
            if (time.GetUtcNow() < until) return;
            _coolingUntil = null;
            logger.LogInformation("Device {DeviceId}: release cool-down over; routable again", DeviceId);
        }
        // Partitions hold soft state: a periodic refresh rebuilds it after a partition moves or restarts.
        await RefreshPartitionAsync();
    }

    /// <summary>Awaited when the device joins or changes what it can run, so that it is routable once the call returns.</summary>
    /// <remarks>Nothing while cooling down: the device stays out of routing until the watchdog ends the cool-down.</remarks>
    private Task RefreshPartitionAsync() => _coolingUntil is null ? PartitionFor(S.HardwareClass).UpsertAsync(SlotEntry()) : Task.CompletedTask;

    /// <summary>Busy slots and record changed while working: not worth a round trip inside a job's dispatch.</summary>
    private Task RefreshSlotsAsync() => _coolingUntil is null ? PartitionFor(S.HardwareClass).RefreshAsync(SlotEntry()) : Task.CompletedTask;

    private DeviceSlotEntry SlotEntry()
    {
        var capabilities = S.Capabilities!;
        return new DeviceSlotEntry
        {
            DeviceId = DeviceId,
            OwnerAccountId = S.OwnerAccountId,
            Kind = capabilities.Kind,
            WorkingMemoryMb = capabilities.WorkingMemoryMb,
            Gflops = ObservedSpeed.Effective(capabilities.Gflops, S.Speed),
            Runtimes = capabilities.Runtimes,
            Slots = capabilities.Slots,
            BusySlots = _openLeases.Count,
            Reliability = S.Record.Reliability,
            CachedBlobIds = S.CachedBlobIds,
            AuditRate = AuditPolicy.Rate(S.Record, _options),
        };
    }

    private IDevicePartitionGrain PartitionFor(string hardwareClass) =>
        GrainFactory.GetGrain<IDevicePartitionGrain>(RoutingPartitions.KeyFor(hardwareClass, DeviceId, _options.PartitionsPerClass));

    private IAsyncStream<DeviceCommand> CommandStream() =>
        this.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For(DeviceId));

    private DeviceView View() => new()
    {
        DeviceId = DeviceId,
        Name = S.Name,
        OwnerAccountId = S.OwnerAccountId,
        Capabilities = S.Capabilities!,
        Status = S.Status,
        HardwareClass = S.HardwareClass,
        Record = S.Record,
        Reputation = S.Record.Reliability,
        AuditRate = AuditPolicy.Rate(S.Record, _options),
        OpenLeases = _openLeases.Count,
        LastHeartbeat = S.Status == DeviceStatus.Online ? _lastHeartbeat : null,
        BannedAt = S.BannedAt,
        Speed = S.Speed,
        CoolingDownUntil = _coolingUntil,
        EffectiveGflops = ObservedSpeed.Effective(S.Capabilities!.Gflops, S.Speed),
    };
}
