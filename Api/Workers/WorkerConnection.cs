using System.Net.WebSockets;
using System.Threading.Channels;
using Huginn.Api.Access;
using Huginn.Api.Apis;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Api.Hosting;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Protocol;
using Huginn.Workloads;
using Orleans.Streams;

namespace Huginn.Api.Workers;

/// <summary>
/// One worker's socket. Forwards the device's stream (assignments, revocations) to the worker, and checks
/// every frame from the worker before any grain sees it: known message, size within limits, a result only
/// for a lease this connection delivered, a payload of exactly the declared size.
/// Every way a peer can misbehave ends in an error frame or a documented close code, never in an exception that resets
/// the socket (issue 12, findings 5 and 6).
/// </summary>
/// <param name="device">The device, when its token came in the Authorization header; else the hello must carry it.</param>
/// <param name="admitByHello">Authenticates a token from the hello frame (and takes the owner's socket place).</param>
public sealed class WorkerConnection(WebSocket socket, DeviceView? device, Func<string, Task<WorkerGateway.Admission>> admitByHello,
    IClusterClient cluster, IBlobStore blobs, ApiOptions options, ILogger<WorkerConnection> logger)
{
    private DeviceView? _device = device;
    private readonly FrameSocket _frames = new(socket, options.MaxFrameBytes);
    private readonly string _connectionId = Guid.NewGuid().ToString("N");
    private readonly Channel<DeviceCommand> _outbound = Channel.CreateUnbounded<DeviceCommand>(new() { SingleReader = true });
    /// <summary>Leases this connection delivered and not yet answered, with the exact output each one's shard implies.</summary>
    private readonly Dictionary<string, DeliveredLease> _deliveredLeases = [];
    private readonly object _leaseLock = new();
    private IDeviceGrain Device => cluster.GetGrain<IDeviceGrain>(_device!.DeviceId);
    private string DeviceId => _device?.DeviceId ?? "(not yet authenticated)";
    private int _malformedFrames;

    public async Task RunAsync(CancellationToken aborted)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        StreamSubscriptionHandle<DeviceCommand>? subscription = null;
        try
        {
            if (!await HandshakeAsync(lifetime.Token)) return;
            var device = _device!;
            var stream = cluster.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For(device.DeviceId));
            subscription = await stream.SubscribeAsync((command, _) => _outbound.Writer.WriteAsync(command).AsTask());
            var status = await Device.AttachConnectionAsync(_connectionId);
            if (status == DeviceStatus.Banned)
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, "device banned");
                return;
            }
            await _frames.SendAsync(new WelcomeMessage(Frame.Version, device.DeviceId, options.HeartbeatInterval.TotalSeconds, options.MaxFrameBytes), lifetime.Token);
            logger.LogInformation("Worker {DeviceId} connected ({Connection})", device.DeviceId, _connectionId);

            var sending = ForwardCommandsAsync(lifetime.Token);
            await ReceiveAsync(lifetime.Token);
            lifetime.Cancel();
            await sending.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            logger.LogInformation("Worker {DeviceId} connection ended: {Reason}", DeviceId, ex.Message);
        }
        catch (Exception ex) when (!ClusterUnavailableHandler.IsTransient(ex))
        {
            // A bug of ours, not the peer's doing: logged as an error (the fuzz suite fails on it), the peer told 1011.
            logger.LogError(ex, "Worker {DeviceId}: connection failed", DeviceId);
            await CloseAsync(WebSocketCloseStatus.InternalServerError, "internal error");
        }
        finally
        {
            if (subscription is not null) await subscription.UnsubscribeAsync();
            if (_device is not null) await Device.DetachConnectionAsync(_connectionId);
        }
    }

    private async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        byte[]? frame;
        try
        {
            frame = await _frames.ReceiveAsync(options.HelloTimeout, options.FrameReadTimeout, cancellationToken);
        }
        catch (FrameTimeoutException ex)
        {
            await CloseAsync(WebSocketCloseStatus.PolicyViolation, ex.Idle ? "no hello in time" : "hello frame not finished in time");
            return false;
        }
        catch (FrameTooLargeException ex)
        {
            await CloseAsync(WebSocketCloseStatus.MessageTooBig, ex.Message);
            return false;
        }
        catch (InvalidDataException)
        {
            await CloseAsync(WebSocketCloseStatus.InvalidMessageType, "the first frame must be a binary hello frame");
            return false;
        }
        if (frame is null) return false;
        if (!Frame.TryDecode(frame, out var message, out _, out var error) || message is not HelloMessage helloMessage)
        {
            await CloseAsync(WebSocketCloseStatus.ProtocolError, error ?? "the first frame must be hello");
            return false;
        }
        if (helloMessage.Version != Frame.Version)
        {
            await CloseAsync(WebSocketCloseStatus.ProtocolError, $"protocol version {helloMessage.Version} is not supported; this server speaks {Frame.Version}");
            return false;
        }
        if (_device is null)
        {
            if (string.IsNullOrEmpty(helloMessage.Token))
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, "unauthorized: send the device token as 'Authorization: Bearer' or in hello.token");
                return false;
            }
            var admission = await admitByHello(helloMessage.Token);
            if (admission.Device is null)
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, admission.Reason ?? "unauthorized");
                return false;
            }
            _device = admission.Device;
        }
        var device = _device;
        if (helloMessage.Capabilities is { } reported)
        {
            // A worker reports what it measured at start-up; the profile follows the hardware.
            var capabilities = DevicesApi.ToCapabilities(reported, out var capabilityError);
            var result = capabilities is null ? null
                : await Device.RegisterAsync(new DeviceRegistration(device.OwnerAccountId, device.Name, capabilities));
            if (result is not { Succeeded: true })
            {
                var reason = capabilityError?.Reason ?? string.Join("; ", result!.Errors.Select(e => $"{e.Field} {e.Reason}"));
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, Truncate($"capabilities refused: {reason}"));
                return false;
            }
        }
        return true;
    }

    private async Task ForwardCommandsAsync(CancellationToken cancellationToken)
    {
        await foreach (var command in _outbound.Reader.ReadAllAsync(cancellationToken))
        {
            switch (command)
            {
                case ShardAssignment assignment:
                    var (values, bytes) = OutputShape.Expected(assignment.Spec, assignment.Shard);
                    lock (_leaseLock) _deliveredLeases[assignment.LeaseId] = new DeliveredLease(assignment.JobId, values, bytes);
                    await _frames.SendAsync(new AssignMessage(assignment.LeaseId, assignment.JobId, assignment.Spec, assignment.Shard,
                        assignment.WeightsBlobId, assignment.Deadline, assignment.PriceMicroHu, assignment.DatasetChunks), cancellationToken);
                    break;
                case LeaseRevoked revoked:
                    lock (_leaseLock) _deliveredLeases.Remove(revoked.LeaseId);
                    await _frames.SendAsync(new RevokeMessage(revoked.LeaseId, revoked.Reason.ToString()), cancellationToken);
                    break;
                case DeviceTokenRevoked:
                    await _frames.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "device token revoked", TimeSpan.FromSeconds(5), drain: false);
                    return;
                case ConnectionReplaced replaced when replaced.ConnectionId != _connectionId:
                    // The receive loop is reading this socket: it reads the peer's close, so no draining here.
                    await _frames.CloseOutputAsync((WebSocketCloseStatus)4409, "replaced by a newer connection of this device", TimeSpan.FromSeconds(5), drain: false);
                    return;
            }
        }
    }

    private async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            byte[]? frame;
            try
            {
                frame = await _frames.ReceiveAsync(options.WorkerIdleTimeout, options.FrameReadTimeout, cancellationToken);
            }
            catch (FrameTimeoutException ex)
            {
                // A silent peer, or one stalled or dripping mid-frame: its socket and buffers are not kept (finding 6).
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, ex.Idle
                    ? $"idle: no frame in {options.WorkerIdleTimeout.TotalSeconds:0.#} s"
                    : $"a frame was not finished within {options.FrameReadTimeout.TotalSeconds:0.#} s");
                return;
            }
            catch (FrameTooLargeException ex)
            {
                await CloseAsync(WebSocketCloseStatus.MessageTooBig, ex.Message);
                return;
            }
            catch (InvalidDataException ex)
            {
                if (await RefuseAsync("malformed_frame", ex.Message, null, cancellationToken)) continue;
                return;
            }
            if (frame is null)
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
                return;
            }
            if (!Frame.TryDecode(frame, out var message, out var payload, out var error))
            {
                if (await RefuseAsync("malformed_frame", error!, null, cancellationToken)) continue;
                return;
            }
            if (MissingField(message!) is { } missing)
            {
                // Checked here so that no grain ever sees a message without the fields it acts on.
                if (await RefuseAsync("malformed_frame", $"'{missing}' is required in a '{message!.GetType().Name}'", null, cancellationToken)) continue;
                return;
            }
            try
            {
                if (!await HandleAsync(message!, payload, cancellationToken)) return;
            }
            catch (Exception ex) when (ClusterUnavailableHandler.IsTransient(ex))
            {
                // A silo is failing over: the socket stays up; a result that did not land is covered by its lease deadline.
                logger.LogWarning("Worker {DeviceId}: cluster unavailable ({Error})", DeviceId, ex.Message);
                await _frames.SendAsync(new ErrorMessage("temporarily_unavailable", "the pool is failing over; keep going"), cancellationToken);
            }
        }
    }

    /// <returns>False when the connection was closed.</returns>
    private async Task<bool> HandleAsync(ProtocolMessage message, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        switch (message)
        {
            case HeartbeatMessage heartbeat:
                var cached = (heartbeat.CachedBlobIds ?? []).Where(id => id is not null && SpecValidator.IsBlobId(id)).Take(256).ToArray();
                var status = await Device.HeartbeatAsync(new DeviceHeartbeat(cached));
                await _frames.SendAsync(new HeartbeatAckMessage(status.ToString().ToLowerInvariant()), cancellationToken);
                if (status != DeviceStatus.Banned) return true;
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, "device banned");
                return false;
            case AckMessage:
                return true;
            case ResultMessage result:
                return await HandleResultAsync(result, payload, cancellationToken);
            case ReleaseMessage release:
                bool delivered;
                lock (_leaseLock) delivered = _deliveredLeases.Remove(release.LeaseId);
                // Like a result, a release reaches the grain only for a lease this connection delivered and still holds.
                if (!delivered) return await RefuseAsync("not_leased", "no open lease with this id on this device", release.LeaseId, cancellationToken, strike: false);
                // Never trust the worker: its text is sanitized again here and an unknown code is "internal".
                await Device.ReleaseLeaseAsync(release.LeaseId, ShardFailureText.Sanitize(release.Reason), ShardErrorCodes.Normalize(release.Code));
                return true;
            default:
                return await RefuseAsync("unexpected_message", $"a worker does not send '{message.GetType().Name}'", null, cancellationToken);
        }
    }

    /// <returns>False when the connection was closed.</returns>
    private async Task<bool> HandleResultAsync(ResultMessage result, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        DeliveredLease? lease;
        lock (_leaseLock) _deliveredLeases.Remove(result.LeaseId, out lease);
        if (lease is null)
        {
            // Never reaches a grain: this connection did not deliver that lease (or already answered it).
            await _frames.SendAsync(new ReceiptMessage(result.LeaseId, "notLeased"), cancellationToken);
            // A late result for a revoked lease is an honest race, not misbehaviour: no strike.
            return await RefuseAsync("not_leased", "no open lease with this id on this device", result.LeaseId, cancellationToken, strike: false);
        }

        ResultRef? stored;
        string? problem, code;
        try
        {
            (stored, problem, code) = await StoreResultAsync(result, payload, lease, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or Npgsql.NpgsqlException or TimeoutException)
        {
            // Not the worker's fault: the lease stays open on this connection, so the same result may be sent again.
            logger.LogWarning(ex, "Worker {DeviceId}: the result for lease {LeaseId} could not be stored", DeviceId, result.LeaseId);
            lock (_leaseLock) _deliveredLeases[result.LeaseId] = lease;
            await _frames.SendAsync(new ErrorMessage("temporarily_unavailable", "the result could not be stored; send it again", result.LeaseId), cancellationToken);
            return true;
        }
        if (stored is null)
        {
            // The lease is spent: a malformed answer is an answer, and the device grain counts it against the device.
            var receipt = await Device.RejectResultAsync(result.LeaseId, problem!);
            await _frames.SendAsync(new ReceiptMessage(result.LeaseId, Receipt(receipt)), cancellationToken);
            return await RefuseAsync(code!, problem!, result.LeaseId, cancellationToken);
        }
        var outcome = await Device.SubmitResultAsync(new ShardResult(result.LeaseId, stored));
        await _frames.SendAsync(new ReceiptMessage(result.LeaseId, Receipt(outcome)), cancellationToken);
        return true;
    }

    /// <summary>
    /// Checks a result against its lease (exact size, finite values) and puts it in the blob store, held by the job, so
    /// that only a reference goes on to the grains. A result named by a blob the worker uploaded is checked by
    /// streaming it from the store. Null, with the problem and its error code, when the result is malformed.
    /// </summary>
    private async Task<(ResultRef? Stored, string? Problem, string? Code)> StoreResultAsync(
        ResultMessage result, ReadOnlyMemory<byte> payload, DeliveredLease lease, CancellationToken cancellationToken)
    {
        if (result.ValueCount != lease.Values || result.ByteCount != lease.Bytes)
            return (null, $"declared {result.ValueCount} values and {result.ByteCount} bytes; this shard's output is {lease.Values} values and {lease.Bytes} bytes", "wrong_result_size");
        var size = (long)result.ValueCount * sizeof(float) + result.ByteCount;
        string blobId;
        if (result.ResultBlobId is { } named)
        {
            if (payload.Length != 0) return (null, "a result either names a blob or carries its bytes, not both", "payload_size_mismatch");
            if (!SpecValidator.IsBlobId(named)) return (null, "resultBlobId must be 64 lowercase hex characters", "malformed_frame");
            if (await blobs.GetLengthAsync(named, cancellationToken) != size)
                return (null, $"blob {named} does not exist or does not hold the {size} bytes of this shard's output", "wrong_result_size");
            if (lease.Bytes == 0 && !await IsFiniteStoredAsync(named, lease.Values, cancellationToken))
                return (null, "the result holds NaN or infinite values", "non_finite_result");
            blobId = named;
        }
        else
        {
            if (payload.Length != size)
                return (null, $"declared {result.ValueCount} values and {result.ByteCount} bytes, got a payload of {payload.Length} bytes", "payload_size_mismatch");
            if (!F32Streams.AllFinite(payload.Span[..(result.ValueCount * sizeof(float))])) return (null, "the result holds NaN or infinite values", "non_finite_result");
            // Stored and held by its job in one step (one commit in the PostgreSQL store).
            var put = await blobs.PutHeldAsync(payload, BlobHolders.Job(lease.JobId), cancellationToken);
            if (!put.Succeeded) throw new IOException($"the result could not be stored ({put.Outcome})");
            return (new ResultRef(put.BlobId!, size, result.Loss, result.Samples), null, null);
        }
        await blobs.AddReferenceAsync(blobId, BlobHolders.Job(lease.JobId), cancellationToken);
        return (new ResultRef(blobId, size, result.Loss, result.Samples), null, null);
    }

    private async Task<bool> IsFiniteStoredAsync(string blobId, int values, CancellationToken cancellationToken)
    {
        await using var stream = await blobs.OpenReadAsync(blobId, cancellationToken);
        return stream is not null && await F32Streams.IsFiniteTensorAsync(stream, values, cancellationToken);
    }

    private sealed record DeliveredLease(string JobId, int Values, int Bytes);

    /// <summary>The required header field a worker's message lacks, or null. JSON leaves a missing string null.</summary>
    private static string? MissingField(ProtocolMessage message) => message switch
    {
        AckMessage { LeaseId: null or "" } or ResultMessage { LeaseId: null or "" } or ReleaseMessage { LeaseId: null or "" } => "leaseId",
        _ => null,
    };

    private static string Receipt(ResultReceipt receipt) => receipt switch
    {
        ResultReceipt.Accepted => "accepted",
        ResultReceipt.Malformed => "malformed",
        _ => "notLeased",
    };

    /// <summary>Tells the worker what was wrong; closes after too many malformed frames. False when closed.</summary>
    private async Task<bool> RefuseAsync(string code, string message, string? leaseId, CancellationToken cancellationToken, bool strike = true)
    {
        logger.LogWarning("Worker {DeviceId}: {Code}: {Message}", DeviceId, code, message);
        await _frames.SendAsync(new ErrorMessage(code, Truncate(message), leaseId), cancellationToken);
        if (!strike || ++_malformedFrames < options.MalformedFramesBeforeClose) return true;
        await CloseAsync(WebSocketCloseStatus.PolicyViolation, "too many refused frames");
        return false;
    }

    /// <summary>
    /// Sends the close frame (after any frame being sent) and lets the peer read it for up to 5 s, dropping what it still
    /// sends, without waiting for an answer a stalled peer never gives. Called from the receiving side only.
    /// </summary>
    private async Task CloseAsync(WebSocketCloseStatus status, string reason) =>
        await _frames.CloseOutputAsync(status, Truncate(reason), TimeSpan.FromSeconds(5));

    /// <summary>Close reasons are limited to 123 bytes by RFC 6455.</summary>
    private static string Truncate(string text) => text.Length <= 120 ? text : text[..120];

}
