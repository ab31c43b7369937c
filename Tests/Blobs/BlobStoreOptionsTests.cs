using Huginn.Blobs;

namespace Huginn.Tests.Blobs;

public sealed class BlobStoreOptionsTests
{
    [Fact]
    public void A_durable_store_takes_results_of_big_models_by_default_and_memory_stays_small()
    {
        var defaults = new BlobStoreOptions();

        Assert.Equal(64L << 20, defaults.MemoryMaxBlobBytes);
        Assert.Equal(1L << 30, defaults.DurableMaxBlobBytes);
    }

    [Fact]
    public void A_configured_limit_applies_to_every_store()
    {
        var configured = new BlobStoreOptions { MaxBlobBytes = 4_000 };

        Assert.Equal(4_000, configured.MemoryMaxBlobBytes);
        Assert.Equal(4_000, configured.DurableMaxBlobBytes);
        Assert.Equal(4_000, new MemoryBlobStore(configured).MaxBlobBytes);
    }
}
