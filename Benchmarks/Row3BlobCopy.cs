using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Huginn.Demo;
using Huginn.Worker.Agent;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 3's blob figure: the bytes a worker downloads (GET /v1/blobs/{id} with its device token) against a raw
/// loopback TCP copy of the same number of bytes, both timed in the same run, interleaved so that the
/// machine's noise falls on both alike.
/// </summary>
public static class Row3BlobCopy
{
    /// <summary>Read and write size of both sides: the same buffer size class for the raw copy and the download.</summary>
    public const int BufferBytes = 64 * 1024;

    /// <summary>MB/s = 10⁶ bytes per second, best of the repeats; the worker's path includes its SHA-256 check, timed alone too.</summary>
    public sealed record Result(double StreamedMBps, double WorkerPathMBps, double RawMBps, TimeSpan Sha256);

    /// <remarks>
    /// The blob is read back with the uploader's key: since blobs have access control (a device reads one only while a
    /// lease of its needs it), the uploader is who may read an arbitrary blob. The download path (the store, the
    /// endpoint, the worker's <see cref="BlobCache"/>) is the one a worker's lease takes; only the access check differs.
    /// </remarks>
    public static async Task<Result> MeasureAsync(PoolClient uploader, Uri apiUrl, int bytes, int repeats)
    {
        var readerKey = uploader.ApiKey ?? throw new ArgumentException("the uploader needs an API key to read its blob back", nameof(uploader));
        var blob = new byte[bytes];
        new Random(7).NextBytes(blob);
        var blobId = await uploader.UploadAsync(blob);
        if (blobId != Digest.Sha256Hex(blob)) throw new InvalidOperationException("the pool named the blob by another digest");

        using var device = new HttpClient { BaseAddress = apiUrl };
        device.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readerKey);
        // The worker's cache sets the token on each request itself.
        using var worker = new HttpClient { BaseAddress = apiUrl };
        // Warm-up: JIT, the connections, the blob grain's activation; the cache checks the bytes against the id.
        await WorkerPathAsync(worker, readerKey, blobId);
        await StreamedAsync(device, blobId, bytes);
        await RawCopyAsync(blob);

        TimeSpan streamed = TimeSpan.MaxValue, workerPath = TimeSpan.MaxValue, raw = TimeSpan.MaxValue, sha256 = TimeSpan.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            raw = Min(raw, await RawCopyAsync(blob));
            streamed = Min(streamed, await StreamedAsync(device, blobId, bytes));
            workerPath = Min(workerPath, await WorkerPathAsync(worker, readerKey, blobId));
            var hashing = Stopwatch.StartNew();
            Digest.Sha256Hex(blob);
            sha256 = Min(sha256, hashing.Elapsed);
        }
        return new Result(MBps(bytes, streamed), MBps(bytes, workerPath), MBps(bytes, raw), sha256);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static double MBps(int bytes, TimeSpan elapsed) => bytes / elapsed.TotalSeconds / 1e6;

    /// <summary>Request to last byte, read in 64 KiB pieces and dropped: the transfer alone.</summary>
    private static async Task<TimeSpan> StreamedAsync(HttpClient http, string blobId, int expected)
    {
        var buffer = new byte[BufferBytes];
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync($"v1/blobs/{blobId}", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0) total += read;
        var elapsed = clock.Elapsed;
        if (total != expected) throw new InvalidOperationException($"downloaded {total} bytes of {expected}");
        return elapsed;
    }

    /// <summary>The worker's own BlobCache, fresh each time: download, then the SHA-256 check against the id.</summary>
    private static async Task<TimeSpan> WorkerPathAsync(HttpClient http, string readerKey, string blobId)
    {
        var cache = new BlobCache(http, readerKey, long.MaxValue);
        var clock = Stopwatch.StartNew();
        await cache.GetAsync(blobId, CancellationToken.None);
        return clock.Elapsed;
    }

    /// <summary>Connect to last byte over a fresh loopback TCP connection: 64 KiB writes from memory, 64 KiB reads dropped.</summary>
    private static async Task<TimeSpan> RawCopyAsync(byte[] source)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serving = Task.Run(async () =>
        {
            using var server = await listener.AcceptTcpClientAsync();
            var stream = server.GetStream();
            for (var offset = 0; offset < source.Length; offset += BufferBytes)
                await stream.WriteAsync(source.AsMemory(offset, Math.Min(BufferBytes, source.Length - offset)));
            server.Client.Shutdown(SocketShutdown.Send);
        });
        var buffer = new byte[BufferBytes];
        var clock = Stopwatch.StartNew();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var input = client.GetStream();
        long total = 0;
        int read;
        while ((read = await input.ReadAsync(buffer)) > 0) total += read;
        var elapsed = clock.Elapsed;
        await serving;
        if (total != source.Length) throw new InvalidOperationException($"raw copy moved {total} bytes of {source.Length}");
        return elapsed;
    }
}
