using Huginn.Api.Access;
using Huginn.Grains.Interfaces.Blobs;
using Huginn.Workloads;
using Microsoft.AspNetCore.Http.Features;

namespace Huginn.Api.Apis;

public sealed record BlobCreatedResponse(string BlobId, long Bytes);

public static class BlobsApi
{
    public static RouteGroupBuilder MapBlobsApi(this IEndpointRouteBuilder app)
    {
        // Devices fetch inputs with their token; accounts upload datasets and read results.
        var blobs = app.MapGroup("/v1/blobs").WithTags("Blobs").RequireCaller();
        blobs.MapPost("/", UploadAsync).WithName("UploadBlob").WithSummary("Stores raw bytes under their SHA-256.");
        blobs.MapGet("/{blobId}", DownloadAsync).WithName("DownloadBlob").WithSummary("The bytes stored under this SHA-256.");
        return blobs;
    }

    private static async Task<IResult> UploadAsync(HttpContext context, IGrainFactory grains)
    {
        if (context.Caller().IsDevice) return Problems.Forbidden("devices do not upload blobs; results go over the worker socket");
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = IBlobGrain.MaxBytes;
        if (context.Request.ContentLength > IBlobGrain.MaxBytes) return Problems.TooLarge(IBlobGrain.MaxBytes);

        using var buffer = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.TooLarge(IBlobGrain.MaxBytes);
        }
        var bytes = buffer.ToArray();
        if (bytes.Length == 0) return Problems.Invalid("body", "is empty");
        var blobId = Digest.Sha256Hex(bytes);
        var outcome = await grains.GetGrain<IBlobGrain>(blobId).PutAsync(bytes);
        return outcome switch
        {
            BlobPutOutcome.Stored or BlobPutOutcome.AlreadyStored => Results.Created($"/v1/blobs/{blobId}", new BlobCreatedResponse(blobId, bytes.Length)),
            BlobPutOutcome.TooLarge => Problems.TooLarge(IBlobGrain.MaxBytes),
            _ => Problems.Conflict($"blob refused: {outcome}"),
        };
    }

    private static async Task<IResult> DownloadAsync(string blobId, IGrainFactory grains)
    {
        if (!SpecValidator.IsBlobId(blobId)) return Problems.Invalid("blobId", "must be 64 lowercase hex characters");
        // Shared, not copied (read-only from here on), and written out in 64 KiB pieces rather than in one write of
        // the whole array: each measured faster for tens of MiB (docs/BENCHMARKS.md, row 3).
        var bytes = (await grains.GetGrain<IBlobGrain>(blobId).GetSharedAsync()).Value;
        return bytes is null ? Problems.NotFound("blob") : Results.Stream(new MemoryStream(bytes, writable: false), "application/octet-stream");
    }
}
