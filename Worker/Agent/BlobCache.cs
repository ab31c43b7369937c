using System.Net.Http.Headers;
using Huginn.Workloads;

namespace Huginn.Worker.Agent;

/// <summary>
/// Content-addressed inputs fetched once and kept in memory (least recently used out first), so a dataset
/// travels to a device once, and a round's weights once per round rather than once per shard.
/// Every download is checked against its id.
/// </summary>
public sealed class BlobCache(HttpClient http, string deviceToken, long capacityBytes)
{
    private readonly Dictionary<string, (byte[] Bytes, long LastUse)> _blobs = [];
    private readonly SemaphoreSlim _lock = new(1, 1);
    private long _clock;
    private long _size;

    private readonly List<string> _downloaded = [];

    /// <summary>
    /// The ids of the blobs fetched from the pool so far, in order, a refetch after eviction counted again (cache hits
    /// are not): what a test counts to see that a worker fetches only the chunks its shards read, each once.
    /// </summary>
    public string[] Downloaded
    {
        get
        {
            lock (_downloaded) return [.. _downloaded];
        }
    }

    public string[] Ids
    {
        get
        {
            lock (_blobs) return _blobs.OrderByDescending(b => b.Value.LastUse).Select(b => b.Key).Take(256).ToArray();
        }
    }

    /// <summary>
    /// A pool restarting or a network blip is not the shard's fault: retry a few times (1, 2, 4 s) before
    /// the caller gives the lease back.
    /// </summary>
    private async Task<byte[]> DownloadAsync(string blobId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/blobs/{blobId}");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", deviceToken);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if ((int)response.StatusCode >= 500 && attempt < 3) throw new HttpRequestException($"server error {(int)response.StatusCode}");
                response.EnsureSuccessStatusCode();
                return await ReadBodyAsync(response.Content, cancellationToken);
            }
            catch (HttpRequestException) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1 << attempt), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Uploads a result too large for one frame; the result message then names the blob. Retried like a download;
    /// returns the blob id the pool computed (it must equal ours: the id is the bytes' SHA-256).
    /// </summary>
    public async Task<string> UploadAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        var expected = Digest.Sha256Hex(bytes);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/blobs") { Content = new ByteArrayContent(bytes) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", deviceToken);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var response = await http.SendAsync(request, cancellationToken);
                if ((int)response.StatusCode >= 500 && attempt < 3) throw new HttpRequestException($"server error {(int)response.StatusCode}");
                response.EnsureSuccessStatusCode();
                return expected;
            }
            catch (HttpRequestException) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1 << attempt), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Straight into an array of the announced length: buffering the whole body first and then copying it out
    /// (ReadAsByteArrayAsync) costs a second pass over the bytes and a second array as large as the blob.
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is not { } length || length > Array.MaxLength)
            return await content.ReadAsByteArrayAsync(cancellationToken);
        var bytes = new byte[length];
        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        try
        {
            await body.ReadExactlyAsync(bytes, cancellationToken);
        }
        catch (IOException ex)
        {
            // Cut short or dropped mid-body: a transient failure, retried like one.
            throw new HttpRequestException($"the body broke off before its {length} bytes: {ex.Message}", ex);
        }
        return bytes;
    }

    public async Task<byte[]> GetAsync(string blobId, CancellationToken cancellationToken)
    {
        lock (_blobs)
        {
            if (_blobs.TryGetValue(blobId, out var cached))
            {
                _blobs[blobId] = (cached.Bytes, ++_clock);
                return cached.Bytes;
            }
        }
        await _lock.WaitAsync(cancellationToken);
        try
        {
            lock (_blobs)
            {
                if (_blobs.TryGetValue(blobId, out var cached)) return cached.Bytes;
            }
            var bytes = await DownloadAsync(blobId, cancellationToken);
            lock (_downloaded) _downloaded.Add(blobId);
            if (Digest.Sha256Hex(bytes) != blobId) throw new InvalidDataException($"blob {blobId} arrived corrupted");
            lock (_blobs)
            {
                _blobs[blobId] = (bytes, ++_clock);
                _size += bytes.LongLength;
                while (_size > capacityBytes && _blobs.Count > 1)
                {
                    var oldest = _blobs.MinBy(b => b.Value.LastUse);
                    _blobs.Remove(oldest.Key);
                    _size -= oldest.Value.Bytes.LongLength;
                }
            }
            return bytes;
        }
        finally
        {
            _lock.Release();
        }
    }
}
