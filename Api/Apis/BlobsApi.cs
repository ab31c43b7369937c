using Huginn.Api.Access;
using Huginn.Api.Hosting;
using Huginn.Grains.Interfaces.Access;
using Microsoft.Extensions.Options;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Workloads;
using Microsoft.AspNetCore.Http.Features;

namespace Huginn.Api.Apis;

public sealed record BlobCreatedResponse(string BlobId, long Bytes);

public static class BlobsApi
{
    public static RouteGroupBuilder MapBlobsApi(this IEndpointRouteBuilder app)
    {
        // Devices fetch inputs with their token and upload results too large for a frame; accounts upload datasets.
        var blobs = app.MapGroup("/v1/blobs").WithTags("Blobs").RequireCaller();
        blobs.MapPost("/", UploadAsync).WithName("UploadBlob").WithSummary("Stores raw bytes under their SHA-256.")
            .AcceptsBinary("The bytes, e.g. a dataset of f32 rows (docs/API.md); at most Huginn:Blobs:MaxBlobBytes.")
            .Produces<BlobCreatedResponse>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage);
        blobs.MapGet("/{blobId}", DownloadAsync).WithName("DownloadBlob").WithSummary("The bytes stored under this SHA-256.")
            .ProducesBinary("The blob's bytes.").ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return blobs;
    }

    /// <summary>
    /// Who reads a blob: the account that uploaded it, a device while a lease it holds needs it (its job's dataset and
    /// the round's weights), and the operator. Nobody else, whatever ids they learn: every device learns its job's
    /// dataset id from its assignment, and before this any account or device read any blob by its hash. A device
    /// necessarily sees the whole blob its shard's slice is cut from; of a chunked dataset, only the chunks its lease
    /// names (DatasetsApi, docs/DATASETS.md). Job results are read through GET /v1/jobs/{id}/result (owner).
    /// </summary>
    public static async Task<bool> MayReadAsync(Caller caller, string blobId, IBlobStore store, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (caller.IsDevice)
            return caller.Credential.DeviceId is { } deviceId && await grains.GetGrain<IDeviceGrain>(deviceId).MayReadBlobAsync(blobId);
        if (caller.Role == "operator") return true;
        return await store.IsHeldByAsync(blobId, AccountHolder(caller.AccountId), cancellationToken);
    }

    /// <summary>The holder under which an account's uploads stay stored (until a delete endpoint lets go of them).</summary>
    public static string AccountHolder(string accountId) => BlobHolders.Account(accountId);

    private static async Task<IResult> UploadAsync(HttpContext context, IBlobStore store, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = store.MaxBlobBytes;
        if (context.Request.ContentLength > store.MaxBlobBytes) return Problems.TooLarge(store.MaxBlobBytes);
        var caller = context.Caller();
        var quota = options.Value.BlobBytesPerAccount;
        var holdings = grains.GetGrain<IOwnerHoldingsGrain>(caller.AccountId);
        // A declared length over what is left is refused before a byte is read (an undeclared one is counted after).
        if (!caller.IsDevice && context.Request.ContentLength is { } declared && await holdings.BlobBytesAsync() + declared > quota)
            return BlobQuotaExceeded(quota);

        // Straight from the socket into the store, hashed on the way: the body is never held whole here.
        BlobPutResult put;
        try
        {
            put = await store.PutAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.TooLarge(store.MaxBlobBytes);
        }
        switch (put.Outcome)
        {
            case BlobPutOutcome.Stored or BlobPutOutcome.AlreadyStored:
                // A device's upload is a result too large for a frame: nobody holds it until the result message names it
                // (then its job does), and the collector takes it after the grace period if none ever does.
                if (!caller.IsDevice)
                {
                    // Over the quota: not held by the account, so the collector takes it after the grace period.
                    if (!await holdings.TryAddBlobAsync(put.BlobId!, put.Length, quota)) return BlobQuotaExceeded(quota);
                    await store.AddReferenceAsync(put.BlobId!, AccountHolder(caller.AccountId), context.RequestAborted);
                }
                return Results.Created($"/v1/blobs/{put.BlobId}", new BlobCreatedResponse(put.BlobId!, put.Length));
            case BlobPutOutcome.Empty:
                return Problems.Invalid("body", "is empty");
            case BlobPutOutcome.TooLarge:
                return Problems.TooLarge(store.MaxBlobBytes);
            case BlobPutOutcome.QuotaExceeded:
                return Problems.StoreFull(store.QuotaBytes);
            default:
                return Problems.Conflict($"blob refused: {put.Outcome}");
        }
    }

    private static IResult BlobQuotaExceeded(long quota) =>
        Problems.QuotaExceeded($"this account's blobs may hold at most {quota} bytes (Huginn:Api:BlobBytesPerAccount)");

    private static async Task<IResult> DownloadAsync(string blobId, HttpContext context, IBlobStore store, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!SpecValidator.IsBlobId(blobId)) return Problems.Invalid("blobId", "must be 64 lowercase hex characters");
        // Not found rather than forbidden: a blob id is a hash of content, and whether it is stored says something too.
        if (!await MayReadAsync(context.Caller(), blobId, store, grains, cancellationToken)) return Problems.NotFound("blob");
        // Streamed from the store (its length announced: workers read straight into an array of that size), written
        // out in 64 KiB pieces rather than in one write: measured faster for tens of MiB (docs/BENCHMARKS.md, row 3).
        var stream = await store.OpenReadAsync(blobId, cancellationToken);
        return stream is null ? Problems.NotFound("blob") : Results.Stream(stream, "application/octet-stream");
    }
}
