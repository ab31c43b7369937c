using Huginn.Grains.Interfaces.Blobs;
using Huginn.Workloads;
using Orleans.Concurrency;

namespace Huginn.Grains.Blobs;

[GenerateSerializer, Alias("huginn.blob-state")]
public sealed class BlobState
{
    [Id(0)] public byte[]? Bytes { get; set; }
}

/// <summary>A content-addressed blob; immutable once stored.</summary>
public sealed class BlobGrain(
    [PersistentState("blob", StorageNames.State)] IPersistentState<BlobState> state) : Grain, IBlobGrain
{
    public async Task<BlobPutOutcome> PutAsync(byte[] bytes)
    {
        if (bytes.Length > IBlobGrain.MaxBytes) return BlobPutOutcome.TooLarge;
        if (state.State.Bytes is not null) return BlobPutOutcome.AlreadyStored;
        // Hashing megabytes is CPU work: off the grain's turn.
        var digest = bytes.Length > 1 << 20 ? await Task.Run(() => Digest.Sha256Hex(bytes)) : Digest.Sha256Hex(bytes);
        if (digest != this.GetPrimaryKeyString()) return BlobPutOutcome.DigestMismatch;
        state.State.Bytes = bytes;
        await state.WriteStateAsync();
        return BlobPutOutcome.Stored;
    }

    public Task<byte[]?> GetAsync() => Task.FromResult(state.State.Bytes);

    public Task<Immutable<byte[]?>> GetSharedAsync() => Task.FromResult(new Immutable<byte[]?>(state.State.Bytes));

    public Task<long?> GetLengthAsync() => Task.FromResult(state.State.Bytes?.LongLength);
}
