using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using Huginn.Protocol;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>What every simulated worker of a run shares: where to connect, the input cache, the receipt clock.</summary>
public sealed class Row3Fleet(Uri apiUrl) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = apiUrl };
    private readonly ConcurrentDictionary<string, Lazy<Task<float[]>>> _weights = new();

    public Uri WorkerUri { get; } = new UriBuilder(new Uri(apiUrl, "v1/workers/connect")) { Scheme = "ws" }.Uri;

    /// <summary>Stopwatch timestamp at which a worker had the decoded assign frame, by lease id (first delivery only).</summary>
    public ConcurrentDictionary<string, long> Received { get; } = new();

    private int _directDelivered;

    /// <summary>Assignments of <see cref="Row3Direct"/> received so far.</summary>
    public int DirectDelivered => Volatile.Read(ref _directDelivered);

    /// <summary>The first real assignment any worker received: the pattern of the directly published ones.</summary>
    public AssignMessage? Template { get; private set; }

    public void Note(AssignMessage assign)
    {
        if (assign.LeaseId.StartsWith(Row3Direct.LeasePrefix, StringComparison.Ordinal)) Interlocked.Increment(ref _directDelivered);
        else if (Template is null) Template = assign;
    }

    /// <summary>Blob downloads made for shard inputs (once per blob id for the whole fleet).</summary>
    public int InputDownloads => _weights.Count;

    public string[] CachedBlobIds => _weights.Keys.Take(256).ToArray();

    /// <summary>
    /// The weights blob, fetched over HTTP with a device token the first time any worker needs it and then
    /// shared: the benchmark measures assignment delivery, not 1,000 copies of the same 100-byte download.
    /// </summary>
    public Task<float[]> WeightsAsync(string blobId, string deviceToken) =>
        _weights.GetOrAdd(blobId, id => new Lazy<Task<float[]>>(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/blobs/{id}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", deviceToken);
            using var response = await _http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (Digest.Sha256Hex(bytes) != id) throw new InvalidDataException($"blob {id} arrived corrupted");
            return WeightsFormat.FromBytes(bytes);
        })).Value;

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// One simulated worker: a real <see cref="ClientWebSocket"/> on loopback speaking protocol v1 with its device
/// token. It says hello, heartbeats at the interval the welcome names, and answers each assignment at once
/// (ack, then a correct result from the reference executor: a tiny model costs microseconds).
/// </summary>
public sealed class Row3Worker(string deviceId, string token, Row3Fleet fleet)
{
    private readonly ClientWebSocket _socket = new();
    private FrameSocket _frames = null!;
    private Task _receiving = Task.CompletedTask;
    private Task _heartbeating = Task.CompletedTask;
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _closing;
    private int _assignments, _accepted, _otherReceipts, _errorFrames, _revoked;

    public string DeviceId { get; } = deviceId;
    public int Assignments => Volatile.Read(ref _assignments);
    public int Accepted => Volatile.Read(ref _accepted);
    public int OtherReceipts => Volatile.Read(ref _otherReceipts);
    public int ErrorFrames => Volatile.Read(ref _errorFrames);
    public int Revoked => Volatile.Read(ref _revoked);
    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>Connects, says hello and waits for the welcome; then receives and heartbeats in the background.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        _socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        _socket.Options.AddSubProtocol(Frame.SubProtocol);
        await _socket.ConnectAsync(fleet.WorkerUri, cancellationToken);
        _frames = new FrameSocket(_socket, Frame.DefaultMaxFrameBytes);
        // No capabilities in the hello: the registered profile stands (a real worker re-reports what it measured).
        await _frames.SendAsync(new HelloMessage(Frame.Version, null, "row3-sim"), cancellationToken);
        var first = await _frames.ReceiveAsync(cancellationToken);
        if (first is null || !Frame.TryDecode(first, out var message, out _, out _) || message is not WelcomeMessage welcome)
            throw new InvalidOperationException($"{DeviceId}: no welcome ({_socket.CloseStatus} {_socket.CloseStatusDescription})");
        _receiving = ReceiveAsync();
        _heartbeating = HeartbeatAsync(TimeSpan.FromSeconds(welcome.HeartbeatSeconds));
    }

    private async Task ReceiveAsync()
    {
        try
        {
            while (true)
            {
                var frame = await _frames.ReceiveAsync(_stop.Token);
                if (frame is null) return;
                if (!Frame.TryDecode(frame, out var message, out _, out var error))
                {
                    Problems.Enqueue($"malformed frame from the pool: {error}");
                    continue;
                }
                switch (message)
                {
                    case AssignMessage assign:
                        // "Receipt" of row 3: the worker has the decoded assignment.
                        var now = Stopwatch.GetTimestamp();
                        if (!fleet.Received.TryAdd(assign.LeaseId, now)) break; // at-least-once stream: a repeat is ignored
                        Interlocked.Increment(ref _assignments);
                        fleet.Note(assign);
                        // Answered off the receive loop, so a slow answer never delays the next frame's timestamp.
                        _ = Task.Run(() => AnswerAsync(assign));
                        break;
                    case ReceiptMessage { Receipt: "accepted" }:
                        Interlocked.Increment(ref _accepted);
                        break;
                    case ReceiptMessage { Receipt: "notLeased" } direct when direct.LeaseId.StartsWith(Row3Direct.LeasePrefix, StringComparison.Ordinal):
                        // Published with no lease behind it: the device grain answers as it should.
                        break;
                    case ReceiptMessage other:
                        Interlocked.Increment(ref _otherReceipts);
                        Problems.Enqueue($"receipt {other.Receipt} for {other.LeaseId}");
                        break;
                    case RevokeMessage:
                        Interlocked.Increment(ref _revoked);
                        break;
                    case ErrorMessage refused:
                        Interlocked.Increment(ref _errorFrames);
                        Problems.Enqueue($"error frame {refused.Code}: {refused.Message}");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            if (!_closing) Problems.Enqueue($"connection lost: {ex.Message}");
        }
    }

    private async Task AnswerAsync(AssignMessage assign)
    {
        try
        {
            await _frames.SendAsync(new AckMessage(assign.LeaseId), _stop.Token);
            var weights = assign.WeightsBlobId is { } blobId ? await fleet.WeightsAsync(blobId, token) : [];
            var data = ShardData.Load(assign.Spec, assign.Shard);
            var output = ReferenceExecutor.Execute(assign.Spec, assign.Shard, weights, data);
            var payload = new byte[output.Values.Length * 4 + output.Bytes.Length];
            Tensors.ToBytes(output.Values).CopyTo(payload, 0);
            output.Bytes.CopyTo(payload, output.Values.Length * 4);
            await _frames.SendAsync(new ResultMessage(assign.LeaseId, output.Loss, output.Samples, output.Values.Length, output.Bytes.Length),
                payload, _stop.Token);
        }
        catch (Exception ex) when (_closing && ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // Shutting down: the lease goes back with the connection.
        }
        catch (Exception ex)
        {
            Problems.Enqueue($"answering {assign.LeaseId}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task HeartbeatAsync(TimeSpan every)
    {
        try
        {
            // Spread the fleet's heartbeats over the interval instead of sending 1,000 at once.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * every.TotalMilliseconds), _stop.Token);
            using var timer = new PeriodicTimer(every);
            do
            {
                await _frames.SendAsync(new HeartbeatMessage(fleet.CachedBlobIds), _stop.Token);
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            if (!_closing) Problems.Enqueue($"heartbeat: {ex.Message}");
        }
    }

    /// <summary>Says goodbye (close frame), waits up to the timeout for the pool's close, then drops the socket.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        _closing = true;
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "benchmark over", deadline.Token);
            await _receiving.WaitAsync(deadline.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or TimeoutException)
        {
            // The pool is going away too; the socket is aborted below.
        }
        await _stop.CancelAsync();
        await _heartbeating.ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Abort();
        _socket.Dispose();
    }
}
