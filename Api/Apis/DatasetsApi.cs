using Huginn.Api.Access;
using Huginn.Api.Hosting;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Datasets;
using Huginn.Workloads;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Apis;

/// <param name="FeaturesPerSample">f32 formats: floats of features per row.</param>
/// <param name="TargetsPerSample">"f32": floats of targets per row (1, a class index, unless given).</param>
/// <param name="TotalBytes">The file's size: every chunk's size follows from it and <paramref name="ChunkBytes"/>.</param>
/// <param name="ChunkBytes">Bytes per chunk (the last holds the rest); the pool's default when left out.</param>
/// <param name="Sha256">Optional: the whole file's SHA-256 (lowercase hex); finalize checks it, and it finds the dataset again to resume an upload.</param>
public sealed record CreateDatasetRequest(string? Name, string? Format, int? FeaturesPerSample, int? TargetsPerSample, long? TotalBytes, long? ChunkBytes, string? Sha256 = null);

/// <summary>What finalize learned: rows (tokens for a token stream) and the range of the targets (token ids).</summary>
public sealed record DatasetFactsResponse(long Rows, double? TargetMin, double? TargetMax, bool TargetsAreIntegers);

public sealed record DatasetResponse(
    string DatasetId, string Name, string Format, int? FeaturesPerSample, int? TargetsPerSample, long TotalBytes, long ChunkBytes,
    int ChunkCount, long MaxChunkBytes, string State, int ChunksReceived, int[] MissingChunks, DatasetFactsResponse? Facts, DateTimeOffset CreatedAt,
    string? Sha256 = null);

public sealed record DatasetListResponse(DatasetResponse[] Datasets);

public sealed record ChunkStoredResponse(int Index, string BlobId, long Bytes, int ChunksMissing);

/// <summary>
/// Datasets of any size as manifests of content-addressed chunks (docs/DATASETS.md): create (declare format and
/// size) → upload chunks, in any order, each idempotently, resuming from what <c>GET</c> says is missing → finalize
/// (every chunk present; facts recorded) → name it in a job spec. Bytes stream between the socket and the blob store;
/// the dataset grain holds ids and numbers only.
/// </summary>
public static class DatasetsApi
{
    public const int MaxNameLength = 200;
    private const int MaxFeatures = 1 << 24;
    private const int MaxTargets = 1 << 16;

    public static RouteGroupBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var datasets = app.MapGroup("/v1/datasets").WithTags("Datasets").RequireAccount();
        datasets.MapPost("/", CreateAsync).WithName("CreateDataset")
            .WithSummary("Declares a dataset (name, format, row shape, total bytes); answers its id and chunk size. Reserves its bytes against the account's quota.")
            .Produces<DatasetResponse>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        datasets.MapGet("/", ListAsync).WithName("ListDatasets").WithSummary("The caller's datasets.")
            .Produces<DatasetListResponse>();
        datasets.MapGet("/{datasetId}", GetAsync).WithName("GetDataset")
            .WithSummary("A dataset: its declaration, which chunks arrived (to resume an upload), and once finalized its facts (owner only).")
            .Produces<DatasetResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        datasets.MapPut("/{datasetId}/chunks/{index:int}", PutChunkAsync).WithName("UploadDatasetChunk")
            .WithSummary("Stores chunk `index` (raw body, application/octet-stream, exactly its size); idempotent, so an interrupted upload resumes.")
            .AcceptsBinary("Chunk `index` of the dataset: bytes [index·chunkBytes, min((index+1)·chunkBytes, totalBytes)) of the file.")
            .Produces<ChunkStoredResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage);
        datasets.MapPost("/{datasetId}/finalize", FinalizeAsync).WithName("FinalizeDataset")
            .WithSummary("Checks every chunk is present, reads them once and records the facts (rows, target range); then jobs may name it.")
            .Produces<DatasetResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        datasets.MapDelete("/{datasetId}", DeleteAsync).WithName("DeleteDataset")
            .WithSummary("Deletes the dataset and lets go of its chunks; jobs already running on it keep theirs until they end.")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return datasets;
    }

    private static async Task<IResult> CreateAsync(CreateDatasetRequest? request, HttpContext context, IGrainFactory grains, IBlobStore store, IOptions<DatasetOptions> options)
    {
        var caller = context.Caller();
        if (caller.Role != "client") return Problems.Forbidden("only client accounts upload datasets (a dataset feeds a job; a contributor account runs devices)");
        if (request is null) return Problems.Invalid("body", "is required");
        var limits = options.Value;
        var (declaration, errors) = Declare(request, caller.AccountId, limits, store.MaxBlobBytes);
        if (errors.Count > 0) return Problems.Invalid(errors);

        var datasetId = $"ds_{Guid.NewGuid():N}";
        var account = grains.GetGrain<IAccountDatasetsGrain>(caller.AccountId);
        if (!await account.TryReserveAsync(datasetId, declaration!.TotalBytes, limits.BytesPerAccount, limits.MaxDatasetsPerAccount))
        {
            var reserved = await account.ReservedBytesAsync();
            return Problems.QuotaExceeded(
                $"this account's datasets may declare at most {limits.BytesPerAccount} bytes (Huginn:Datasets:BytesPerAccount; {reserved} reserved now) " +
                $"and number at most {limits.MaxDatasetsPerAccount} (Huginn:Datasets:MaxDatasetsPerAccount): delete one (DELETE /v1/datasets/{{id}})");
        }
        if (!await grains.GetGrain<IDatasetGrain>(datasetId).CreateAsync(declaration))
        {
            await account.ReleaseAsync(datasetId);
            return Problems.Conflict("a dataset with this id exists already; retry");
        }
        var view = await grains.GetGrain<IDatasetGrain>(datasetId).GetAsync();
        return Results.Created($"/v1/datasets/{datasetId}", Describe(view!, limits.ChunkCap(store.MaxBlobBytes)));
    }

    /// <summary>The declaration a request makes, or why it makes none (by field).</summary>
    private static (DatasetDeclaration? Declaration, List<SpecError> Errors) Declare(CreateDatasetRequest request, string accountId, DatasetOptions limits, long storeMaxBlobBytes)
    {
        var errors = new List<SpecError>();
        var name = request.Name ?? "";
        if (name.Length > MaxNameLength || name.Any(char.IsControl)) errors.Add(new("name", $"must be at most {MaxNameLength} characters, none of them control characters"));
        var format = request.Format;
        if (!DatasetFormats.IsKnown(format))
        {
            errors.Add(new("format", $"must be one of {DatasetFormats.Names} (docs/DATASETS.md)"));
            return (null, errors);
        }
        int features = 0, targets = 0;
        if (DatasetFormats.IsTokens(format!))
        {
            if (request.FeaturesPerSample is not (null or 0)) errors.Add(new("featuresPerSample", $"a \"{format}\" token stream has no rows: its samples are the model's sequenceLength tokens; leave it out"));
            if (request.TargetsPerSample is not (null or 0)) errors.Add(new("targetsPerSample", $"a \"{format}\" sample's target is the next token; leave it out"));
        }
        else
        {
            features = request.FeaturesPerSample ?? 0;
            if (features is < 1 or > MaxFeatures) errors.Add(new("featuresPerSample", $"is required for \"{format}\": the floats of features per row, 1 to {MaxFeatures}"));
            if (format == DatasetFormats.F32)
            {
                targets = request.TargetsPerSample ?? 1;
                if (targets is < 1 or > MaxTargets) errors.Add(new("targetsPerSample", $"must be 1 to {MaxTargets} (1: a class index under cross_entropy; outputSize under mse)"));
            }
            else if (request.TargetsPerSample is not (null or 0))
            {
                errors.Add(new("targetsPerSample", "\"f32-features\" rows hold no targets; leave it out (or use \"f32\")"));
            }
        }
        var cap = limits.ChunkCap(storeMaxBlobBytes);
        var chunkBytes = request.ChunkBytes ?? Math.Min(limits.DefaultChunkBytes, cap);
        if (chunkBytes < 1 || chunkBytes > cap) errors.Add(new("chunkBytes", $"must be 1 to {cap} (Huginn:Datasets:MaxChunkBytes, and the blob store's Huginn:Blobs:MaxBlobBytes)"));
        if (request.Sha256 is not null && !SpecValidator.IsBlobId(request.Sha256)) errors.Add(new("sha256", "must be the file's SHA-256 as 64 lowercase hex characters"));
        var totalBytes = request.TotalBytes ?? 0;
        if (totalBytes < 1) errors.Add(new("totalBytes", "is required: the size of the file in bytes, 1 or more"));
        if (errors.Count > 0) return (null, errors);

        var rowValues = DatasetFormats.IsTokens(format!) ? 1 : features + targets;
        var rowBytes = (long)rowValues * DatasetFormats.ValueBytes(format!);
        if (totalBytes % rowBytes != 0)
        {
            var what = format switch
            {
                DatasetFormats.F32 => $"rows of {rowValues} float32 ({features} features + {targets} target{(targets == 1 ? "" : "s")}) = {rowBytes} bytes",
                DatasetFormats.F32Features => $"rows of {features} float32 (features only, no targets) = {rowBytes} bytes",
                _ => $"token ids of {rowBytes} bytes",
            };
            errors.Add(new("totalBytes", $"{totalBytes} bytes is not a whole number of {what}: {totalBytes / rowBytes} whole and {totalBytes % rowBytes} bytes over"));
        }
        var chunks = (totalBytes + chunkBytes - 1) / chunkBytes;
        if (chunks > limits.MaxChunks)
            errors.Add(new("totalBytes", $"would take {chunks} chunks of {chunkBytes} bytes; a dataset has at most {limits.MaxChunks} (Huginn:Datasets:MaxChunks): {(long)limits.MaxChunks * cap} bytes with the largest chunks"));
        if (errors.Count > 0) return (null, errors);
        return (new DatasetDeclaration(accountId, name, format!, features, targets, totalBytes, chunkBytes, request.Sha256), errors);
    }

    private static async Task<IResult> ListAsync(HttpContext context, IGrainFactory grains, IBlobStore store, IOptions<DatasetOptions> options)
    {
        var ids = await grains.GetGrain<IAccountDatasetsGrain>(context.Caller().AccountId).ListAsync();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<IDatasetGrain>(id).GetAsync()));
        var cap = options.Value.ChunkCap(store.MaxBlobBytes);
        return Results.Ok(new DatasetListResponse(views.OfType<DatasetView>().Select(v => Describe(v, cap)).ToArray()));
    }

    private static async Task<IResult> GetAsync(string datasetId, HttpContext context, IGrainFactory grains, IBlobStore store, IOptions<DatasetOptions> options)
    {
        var view = await OwnedAsync(datasetId, context, grains);
        return view is null ? Problems.NotFound("dataset") : Results.Ok(Describe(view, options.Value.ChunkCap(store.MaxBlobBytes)));
    }

    private static async Task<IResult> PutChunkAsync(string datasetId, int index, HttpContext context, IGrainFactory grains, IBlobStore store)
    {
        var view = await OwnedAsync(datasetId, context, grains);
        if (view is null) return Problems.NotFound("dataset");
        var declaration = view.Declaration;
        if (index < 0 || index >= view.ChunkIds.Length) return Problems.Invalid("index", $"must be 0 to {view.ChunkIds.Length - 1}: the dataset has {view.ChunkIds.Length} chunks");
        var expected = declaration.ChunkLength(index);
        if (view.Status == DatasetStatus.Ready && view.ChunkIds[index] is null) return Problems.Conflict("the dataset is finalized: its chunks can no longer change");
        if (context.Request.ContentLength is { } declared && declared != expected)
            return Problems.Invalid("body", ChunkSizeReason(index, expected, declared, declaration));

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = expected;
        BlobPutResult put;
        try
        {
            // Straight from the socket into the store, hashed on the way; a body of the wrong size is stored unheld and collected.
            put = await store.PutAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.Invalid("body", ChunkSizeReason(index, expected, null, declaration));
        }
        if (put.Outcome == BlobPutOutcome.QuotaExceeded) return Problems.StoreFull(store.QuotaBytes);
        if (put.Outcome == BlobPutOutcome.TooLarge) return Problems.TooLarge(store.MaxBlobBytes);
        if (!put.Succeeded || put.Length != expected) return Problems.Invalid("body", ChunkSizeReason(index, expected, put.Length, declaration));

        var outcome = await grains.GetGrain<IDatasetGrain>(datasetId).RecordChunkAsync(index, put.BlobId!);
        // Held only once recorded, so refused bytes are collected. Were the Api to stop in between, the chunk would be
        // collected after the grace period; finalize then names it, and uploading it again records and holds it.
        if (outcome == ChunkOutcome.Recorded) await store.AddReferenceAsync(put.BlobId!, BlobHolders.Dataset(datasetId), context.RequestAborted);
        return outcome switch
        {
            ChunkOutcome.Recorded => Results.Ok(new ChunkStoredResponse(index, put.BlobId!, put.Length,
                view.MissingChunks.Count(i => i != index))),
            ChunkOutcome.AlreadyFinalized => Problems.Conflict("the dataset is finalized: its chunks can no longer change"),
            ChunkOutcome.DifferentBytes => Problems.Conflict(
                $"chunk {index} holds other bytes already ({view.ChunkIds[index]}); these hash to {put.BlobId}: is this the same file? Create a new dataset for another one"),
            _ => Problems.NotFound("dataset"),
        };
    }

    private static string ChunkSizeReason(int index, long expected, long? actual, DatasetDeclaration d) =>
        $"chunk {index} of {d.ChunkCount} must hold exactly {expected} bytes (chunks of {d.ChunkBytes} bytes, the last one the rest of {d.TotalBytes})" +
        (actual is { } got ? $"; this one holds {got}" : "; this one holds more");

    private static async Task<IResult> FinalizeAsync(string datasetId, HttpContext context, IGrainFactory grains, IBlobStore store, IOptions<DatasetOptions> options)
    {
        var view = await OwnedAsync(datasetId, context, grains);
        if (view is null) return Problems.NotFound("dataset");
        var cap = options.Value.ChunkCap(store.MaxBlobBytes);
        if (view.Status == DatasetStatus.Ready) return Results.Ok(Describe(view, cap));
        var missing = view.MissingChunks;
        if (missing.Length > 0)
            return Problems.Conflict($"{missing.Length} of {view.ChunkIds.Length} chunks are missing: {string.Join(", ", missing.Take(20))}{(missing.Length > 20 ? ", …" : "")}; upload them (PUT /v1/datasets/{datasetId}/chunks/{{index}}) and finalize again");

        // Every byte read once, here, off any grain's turn; the grain receives the facts.
        var d = view.Declaration;
        var scanner = new DatasetScanner(d.Format, d.FeaturesPerSample, d.TargetsPerSample);
        using var whole = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        foreach (var chunkId in view.ChunkIds)
        {
            await using var stream = await store.OpenReadAsync(chunkId!, context.RequestAborted);
            if (stream is null) return Problems.Conflict($"chunk {chunkId} is no longer stored; upload it again");
            int read;
            while ((read = await stream.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                scanner.Add(buffer.AsSpan(0, read));
                whole.AppendData(buffer, 0, read);
            }
        }
        var sha256 = Convert.ToHexStringLower(whole.GetHashAndReset());
        if (d.Sha256 is { } declaredSha && declaredSha != sha256)
            return Problems.Invalid("sha256", $"the chunks put together hash to {sha256}, not the {declaredSha} declared: a chunk came from another file; delete the dataset and upload again");
        if (scanner.FirstNonFinite is { } bad)
            return Problems.Invalid("body", $"row {bad.Row}, column {bad.Column} holds a value that is not a finite number (NaN or infinity); a dataset's values must all be finite");
        var facts = scanner.Facts();
        if (facts.TotalBytes != d.TotalBytes) return Problems.Conflict($"the chunks hold {facts.TotalBytes} bytes, not the {d.TotalBytes} declared");
        if (!await grains.GetGrain<IDatasetGrain>(datasetId).FinalizeAsync(facts)) return Problems.Conflict("the dataset changed while it was being finalized; try again");
        return Results.Ok(Describe((await grains.GetGrain<IDatasetGrain>(datasetId).GetAsync())!, cap));
    }

    /// <summary>
    /// Lets go of the chunks at once; a job already submitted on the dataset holds the chunks it reads itself (as
    /// "job:{id}"), so it runs to its end, and the chunks go when nothing holds them (the blob collector's grace).
    /// </summary>
    private static async Task<IResult> DeleteAsync(string datasetId, HttpContext context, IGrainFactory grains, IBlobStore store)
    {
        var view = await OwnedAsync(datasetId, context, grains);
        if (view is null) return Problems.NotFound("dataset");
        await grains.GetGrain<IDatasetGrain>(datasetId).DeleteAsync();
        await store.RemoveHolderAsync(BlobHolders.Dataset(datasetId), context.RequestAborted);
        await grains.GetGrain<IAccountDatasetsGrain>(view.Declaration.OwnerAccountId).ReleaseAsync(datasetId);
        return Results.NoContent();
    }

    /// <summary>The dataset when the caller owns it; another owner's reads as unknown.</summary>
    private static async Task<DatasetView?> OwnedAsync(string datasetId, HttpContext context, IGrainFactory grains)
    {
        if (datasetId.Length is 0 or > 100) return null;
        var view = await grains.GetGrain<IDatasetGrain>(datasetId).GetAsync();
        return view is not null && view.Declaration.OwnerAccountId == context.Caller().AccountId ? view : null;
    }

    public static DatasetResponse Describe(DatasetView view, long maxChunkBytes)
    {
        var d = view.Declaration;
        var tokens = DatasetFormats.IsTokens(d.Format);
        var missing = view.MissingChunks;
        var facts = view.Facts is { } f
            ? new DatasetFactsResponse(f.Rows, double.IsNaN(f.TargetMin) ? null : f.TargetMin, double.IsNaN(f.TargetMax) ? null : f.TargetMax, f.TargetsAreIntegers)
            : null;
        return new DatasetResponse(view.DatasetId, d.Name, d.Format, tokens ? null : d.FeaturesPerSample, d.Format == DatasetFormats.F32 ? d.TargetsPerSample : null,
            d.TotalBytes, d.ChunkBytes, d.ChunkCount, maxChunkBytes, view.Status == DatasetStatus.Ready ? "ready" : "uploading",
            view.ChunkIds.Length - missing.Length, missing, facts, view.CreatedAt, d.Sha256);
    }
}
