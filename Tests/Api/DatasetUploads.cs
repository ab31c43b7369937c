using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Huginn.Api.Apis;

namespace Huginn.Tests.Api;

/// <summary>The dataset endpoints as a test drives them: raw HTTP, so that every status and problem can be asserted.</summary>
public sealed class DatasetUploads(Uri api, string apiKey) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler()) { BaseAddress = api, Timeout = TimeSpan.FromMinutes(5) };

    public HttpClient Http
    {
        get
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            return _http;
        }
    }

    public Task<HttpResponseMessage> CreateRawAsync(object request) => Http.PostAsJsonAsync("v1/datasets", request);

    public async Task<DatasetResponse> CreateAsync(object request)
    {
        using var response = await CreateRawAsync(request);
        return await ReadAsync<DatasetResponse>(response);
    }

    public Task<HttpResponseMessage> PutChunkRawAsync(string datasetId, int index, ReadOnlyMemory<byte> bytes) =>
        Http.PutAsync($"v1/datasets/{datasetId}/chunks/{index}", new ReadOnlyMemoryContent(bytes) { Headers = { ContentType = new("application/octet-stream") } });

    public async Task<ChunkStoredResponse> PutChunkAsync(string datasetId, int index, ReadOnlyMemory<byte> bytes)
    {
        using var response = await PutChunkRawAsync(datasetId, index, bytes);
        return await ReadAsync<ChunkStoredResponse>(response);
    }

    /// <summary>Every chunk of <paramref name="file"/>, cut as the dataset says.</summary>
    public async Task UploadAllAsync(DatasetResponse dataset, byte[] file)
    {
        for (var i = 0; i < dataset.ChunkCount; i++)
        {
            var start = i * dataset.ChunkBytes;
            await PutChunkAsync(dataset.DatasetId, i, file.AsMemory((int)start, (int)Math.Min(dataset.ChunkBytes, file.Length - start)));
        }
    }

    public Task<HttpResponseMessage> FinalizeRawAsync(string datasetId) => Http.PostAsync($"v1/datasets/{datasetId}/finalize", null);

    public async Task<DatasetResponse> FinalizeAsync(string datasetId)
    {
        using var response = await FinalizeRawAsync(datasetId);
        return await ReadAsync<DatasetResponse>(response);
    }

    public Task<HttpResponseMessage> GetRawAsync(string datasetId) => Http.GetAsync($"v1/datasets/{datasetId}");

    public async Task<DatasetResponse> GetAsync(string datasetId)
    {
        using var response = await GetRawAsync(datasetId);
        return await ReadAsync<DatasetResponse>(response);
    }

    /// <summary>Creates, uploads and finalizes an f32 (or f32-features) dataset in one go.</summary>
    public async Task<DatasetResponse> UploadF32Async(byte[] file, int features, int? targets, long? chunkBytes = null, string format = "f32")
    {
        var dataset = await CreateAsync(new { name = "test", format, featuresPerSample = features, targetsPerSample = targets, totalBytes = file.LongLength, chunkBytes });
        await UploadAllAsync(dataset, file);
        return await FinalizeAsync(dataset.DatasetId);
    }

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web)!;
    }

    /// <summary>
    /// Rows of <paramref name="features"/> float32 and, with <paramref name="classes"/>, a class label: row i is class
    /// i mod classes, its features small noise plus a bump at the feature of its class, so an MLP learns it quickly.
    /// </summary>
    public static byte[] ClassRows(int rows, int features, int? classes, int labelOffset = 0)
    {
        var rowFloats = features + (classes is null ? 0 : 1);
        var bytes = new byte[checked((long)rows * rowFloats * 4)];
        var span = bytes.AsSpan();
        for (var i = 0; i < rows; i++)
        {
            var c = classes is { } k ? i % k : 0;
            var row = span.Slice(i * rowFloats * 4, rowFloats * 4);
            for (var j = 0; j < features; j++)
            {
                var noise = (float)(((i * 7919L + j * 104729L) % 1000) / 1000.0 - 0.5) * 0.2f;
                BinaryPrimitives.WriteSingleLittleEndian(row[(j * 4)..], noise + (j % 10 == c % 10 ? 1f : 0f));
            }
            if (classes is not null) BinaryPrimitives.WriteSingleLittleEndian(row[(features * 4)..], c + labelOffset);
        }
        return bytes;
    }

    public void Dispose() => _http.Dispose();
}
