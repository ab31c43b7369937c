using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;
using Huginn.Protocol;
using Huginn.Workloads;

namespace Huginn.Worker.Agent;

/// <summary>Runs one shard; TorchSharp in the real worker.</summary>
public interface IShardExecutor
{
    ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data);
}

/// <summary>
/// The worker's life on the pool: connect with the device token, say hello with the measured capabilities,
/// heartbeat, run assignments one at a time, return results, reconnect with backoff when the connection
/// drops. On shutdown it finishes the running shard (up to a grace period) and gives back what it cannot finish.
/// </summary>
public sealed class WorkerAgent(WorkerOptions options, DeviceCapabilitiesDto capabilities, IShardExecutor executor, Action<string> log)
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(options.Api.ToString().TrimEnd('/') + "/") };
    private BlobCache? _blobs;
    /// <summary>The largest frame the pool accepts (from its welcome); a larger result goes up as a blob.</summary>
    private int _maxFrameBytes = Frame.DefaultMaxFrameBytes;
    private long _acceptedMicroHu;
    private int _shardsDone;

    /// <summary>Blobs (weights, dataset blobs or chunks) this worker downloaded; a cached one is not downloaded again.</summary>
    public string[] BlobDownloads => _blobs?.Downloaded ?? [];

    /// <summary>Shards answered with an accepted receipt, and what they pay once verified.</summary>
    public (int Shards, long MicroHu) Accepted => (_shardsDone, Interlocked.Read(ref _acceptedMicroHu));

    public async Task RunAsync(CancellationToken stop)
    {
        var token = options.DeviceToken ?? throw new InvalidOperationException("no device token: pass --token or HUGINN_DEVICE_TOKEN, or --register");
        _blobs = new BlobCache(_http, token, options.BlobCacheBytes);
        var delay = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            var connectedAt = Stopwatch.StartNew();
            try
            {
                var outcome = await RunSessionAsync(token, stop);
                if (outcome == SessionEnd.Refused) return;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or InvalidDataException)
            {
                log($"connection lost: {ex.Message}");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            if (stop.IsCancellationRequested) return;
            // A session that lived a while resets the backoff; quick failures back off exponentially.
            if (connectedAt.Elapsed > TimeSpan.FromMinutes(1)) delay = TimeSpan.FromSeconds(1);
            log($"reconnecting in {delay.TotalSeconds:F0}s");
            try
            {
                await Task.Delay(delay + TimeSpan.FromMilliseconds(Random.Shared.Next(250)), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
        }
    }

    private enum SessionEnd { Closed, Refused }

    private async Task<SessionEnd> RunSessionAsync(string token, CancellationToken stop)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        socket.Options.AddSubProtocol(Frame.SubProtocol);
        var uri = new UriBuilder(new Uri(_http.BaseAddress!, "v1/workers/connect")) { Scheme = options.Api.Scheme == "https" ? "wss" : "ws" }.Uri;
        try
        {
            await socket.ConnectAsync(uri, stop);
        }
        catch (WebSocketException ex) when (ex.Message.Contains("401") || ex.Message.Contains("403"))
        {
            log($"the pool refused this device ({ex.Message}); check the token, or whether the device was banned");
            return SessionEnd.Refused;
        }

        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);
        await frames.SendAsync(new HelloMessage(Frame.Version, capabilities, $"huginn-worker/{typeof(WorkerAgent).Assembly.GetName().Version}"), stop);
        var first = await frames.ReceiveAsync(stop);
        if (first is null || !Frame.TryDecode(first, out var message, out _, out _) || message is not WelcomeMessage welcome)
        {
            log($"the pool closed the connection: {socket.CloseStatusDescription ?? "no welcome"}");
            return socket.CloseStatus == WebSocketCloseStatus.PolicyViolation ? SessionEnd.Refused : SessionEnd.Closed;
        }
        log($"connected as {welcome.DeviceId}; heartbeat every {welcome.HeartbeatSeconds:F0}s");
        _maxFrameBytes = welcome.MaxFrameBytes;

        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var work = Channel.CreateUnbounded<AssignMessage>();
        var revoked = new ConcurrentDictionary<string, bool>();
        var seen = new HashSet<string>();
        var heartbeats = HeartbeatAsync(frames, TimeSpan.FromSeconds(welcome.HeartbeatSeconds), session.Token);
        var worker = WorkAsync(frames, work.Reader, revoked, stop, session.Token);
        try
        {
            while (!session.IsCancellationRequested)
            {
                var frame = await frames.ReceiveAsync(session.Token);
                if (frame is null)
                {
                    log($"the pool closed the connection: {socket.CloseStatusDescription}");
                    return socket.CloseStatus == WebSocketCloseStatus.PolicyViolation ? SessionEnd.Refused : SessionEnd.Closed;
                }
                if (!Frame.TryDecode(frame, out message, out _, out var error))
                {
                    log($"ignored a malformed frame from the pool: {error}");
                    continue;
                }
                switch (message)
                {
                    case AssignMessage assign:
                        await frames.SendAsync(new AckMessage(assign.LeaseId), session.Token);
                        // Streams deliver at least once: the same lease twice is run once.
                        if (seen.Add(assign.LeaseId)) await work.Writer.WriteAsync(assign, session.Token);
                        break;
                    case RevokeMessage revoke:
                        revoked[revoke.LeaseId] = true;
                        log($"lease {Short(revoke.LeaseId)} revoked ({revoke.Reason})");
                        break;
                    case ReceiptMessage receipt:
                        log($"result for {Short(receipt.LeaseId)}: {receipt.Receipt}");
                        break;
                    case ErrorMessage refused:
                        log($"the pool refused a frame: {refused.Code}: {refused.Message}");
                        break;
                    case HeartbeatAckMessage { Status: "banned" }:
                        log("this device has been banned");
                        return SessionEnd.Refused;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl+C: the work loop finishes or releases; then say goodbye.
        }
        finally
        {
            work.Writer.TryComplete();
            await worker.ContinueWith(_ => { }, TaskScheduler.Default);
            session.Cancel();
            await heartbeats.ContinueWith(_ => { }, TaskScheduler.Default);
            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "worker stopping", timeout.Token); }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { }
            }
        }
        return SessionEnd.Closed;
    }

    private async Task HeartbeatAsync(FrameSocket frames, TimeSpan every, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(every);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await frames.SendAsync(new HeartbeatMessage(_blobs!.Ids), cancellationToken);
        }
    }

    /// <summary>One shard at a time; on shutdown the running shard may finish within the grace period, the rest go back.</summary>
    private async Task WorkAsync(FrameSocket frames, ChannelReader<AssignMessage> assignments, ConcurrentDictionary<string, bool> revoked,
        CancellationToken stop, CancellationToken session)
    {
        await foreach (var assign in assignments.ReadAllAsync(session).WithCancellation(session))
        {
            if (stop.IsCancellationRequested)
            {
                await frames.SendAsync(ShardFailureReport.ShuttingDown.ToRelease(assign.LeaseId), session);
                continue;
            }
            if (revoked.ContainsKey(assign.LeaseId)) continue;
            try
            {
                await RunShardAsync(frames, assign, revoked, stop, session);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !session.IsCancellationRequested)
            {
                var failure = ShardFailureReport.From(ex);
                log($"shard {Describe(assign)} failed here ({failure.Code}): {ex.Message}; giving it back");
                // The reason travels with the release: the client reads it in the job if the shard fails everywhere, or
                // at once when devices of two owners fail it the same deterministic way (docs/PROTOCOL.md, "Error codes").
                await frames.SendAsync(failure.ToRelease(assign.LeaseId), session);
            }
        }
    }

    private async Task RunShardAsync(FrameSocket frames, AssignMessage assign, ConcurrentDictionary<string, bool> revoked,
        CancellationToken stop, CancellationToken session)
    {
        log($"shard {Describe(assign)}: {assign.Shard.Flops / 1e9:F2} GFLOP, pays {MicroHu.ToHu(assign.PriceMicroHu)} HU once verified");
        if (options.Fault == Fault.Stall) return;

        var weights = assign.WeightsBlobId is { } weightsBlob ? WeightsFormat.FromBytes(await _blobs!.GetAsync(weightsBlob, session)) : [];
        var (dataset, startByte) = await LoadDatasetBytesAsync(assign, session);
        var clock = Stopwatch.StartNew();
        // TorchSharp work runs on its own thread, with no await inside; shutdown waits for it up to the grace period.
        var compute = Task.Factory.StartNew(() =>
        {
            var (output, sliceBytes) = Execute(assign, weights, dataset, startByte);
            ShardGarbage.CollectAfter(sliceBytes);
            return output;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var finished = await Task.WhenAny(compute, WaitForShutdownAsync(stop, session));
        if (finished != compute)
        {
            log($"stopping: giving {Describe(assign)} back to the pool");
            await frames.SendAsync(ShardFailureReport.ShuttingDown.ToRelease(assign.LeaseId), session);
            return;
        }
        var honest = await compute;
        if (ShardFailureReport.Nonfinite(assign.Spec.Kind, honest) is { } diverged)
        {
            log($"shard {Describe(assign)} failed here ({diverged.Code}): {diverged.Text}; giving it back");
            await frames.SendAsync(diverged.ToRelease(assign.LeaseId), session);
            return;
        }
        var output = Faults.Apply(options.Fault, honest);
        if (revoked.ContainsKey(assign.LeaseId)) return;

        var payload = new byte[output.Values.Length * 4 + output.Bytes.Length];
        // Straight into the payload: a 113 MB delta would otherwise be copied twice.
        Tensors.CopyTo(output.Values, payload);
        output.Bytes.CopyTo(payload, output.Values.Length * 4);
        var result = new ResultMessage(assign.LeaseId, output.Loss, output.Samples, output.Values.Length, output.Bytes.Length);
        if (payload.Length + Frame.MaxHeaderBytes + 4 > _maxFrameBytes)
        {
            // Larger than a frame (a big model's delta): uploaded as a blob first, and the result names it.
            result = result with { ResultBlobId = await _blobs!.UploadAsync(payload, session) };
            payload = [];
        }
        await frames.SendAsync(result, payload, session);
        Interlocked.Add(ref _acceptedMicroHu, assign.PriceMicroHu);
        Interlocked.Increment(ref _shardsDone);
        var rate = assign.Shard.Flops / Math.Max(clock.Elapsed.TotalSeconds, 1e-9) / 1e9;
        log($"shard {Describe(assign)} done in {clock.Elapsed.TotalSeconds:F2}s ({rate:F1} GFLOP/s)"
            + (double.IsNaN(output.Loss) ? "" : $", loss {output.Loss:F4}") + $"; {_shardsDone} shard(s) so far");
    }

    /// <summary>Loads the slice and runs the shard; not inlined, so that the slice is unreachable once it returns.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private (ShardOutput Output, long SliceBytes) Execute(AssignMessage assign, float[] weights, byte[]? dataset, long startByte)
    {
        var data = ShardData.Load(assign.Spec, assign.Shard, dataset, startByte);
        var output = executor.Execute(assign.Spec, assign.Shard, weights, data);
        return (output, ((long)data.Features.Length + data.Targets.Length) * sizeof(float));
    }

    /// <summary>
    /// The stored bytes the shard reads, and the dataset byte they start at: a blob whole, or only the chunks of a
    /// dataset that cover the shard's slice (each fetched once and cached by its id, so shards of later rounds on the
    /// same slice fetch nothing). Null for a synthetic dataset.
    /// </summary>
    private async Task<(byte[]? Bytes, long StartByte)> LoadDatasetBytesAsync(AssignMessage assign, CancellationToken cancellationToken)
    {
        if (assign.DatasetChunks is { } chunks)
        {
            var pieces = new List<byte[]>(chunks.ChunkIds.Length);
            foreach (var chunkId in chunks.ChunkIds) pieces.Add(await _blobs!.GetAsync(chunkId, cancellationToken));
            if (pieces.Count == 1) return (pieces[0], chunks.StartByte);
            var joined = new byte[pieces.Sum(p => (long)p.Length)];
            var at = 0;
            foreach (var piece in pieces)
            {
                piece.CopyTo(joined, at);
                at += piece.Length;
            }
            return (joined, chunks.StartByte);
        }
        // An evaluation shard of a job with a separate validation dataset reads that one (ShardData.DatasetOf).
        return ShardData.DatasetOf(assign.Spec, assign.Shard).BlobId is { } dataBlob ? (await _blobs!.GetAsync(dataBlob, cancellationToken), 0) : (null, 0);
    }

    private async Task WaitForShutdownAsync(CancellationToken stop, CancellationToken session)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await Task.Delay(options.ShutdownGrace, session);
        }
    }

    private static string Describe(AssignMessage a) => $"{a.JobId}/r{a.Shard.Round}/s{a.Shard.Index}";

    private static string Short(string id) => id.Length > 8 ? id[..8] : id;
}
