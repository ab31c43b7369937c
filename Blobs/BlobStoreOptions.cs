namespace Huginn.Blobs;

/// <summary>The blob store's settings (<c>Huginn:Blobs</c>); silo and Api read the same ones.</summary>
public sealed class BlobStoreOptions
{
    public const string Section = "Huginn:Blobs";

    /// <summary>
    /// <c>memory</c>, <c>directory</c> or <c>postgres</c>. Unset: <c>postgres</c> when <c>Huginn:Storage=postgres</c>,
    /// else whatever the host says (memory when silo and Api share a process, a directory when they do not).
    /// </summary>
    public string? Store { get; set; }

    /// <summary>
    /// Largest blob accepted; the Api's upload limit, and so the largest shard result a pool can take. Unset: 64 MiB
    /// for the memory store (whose whole budget is <see cref="MemoryLimitBytes"/>), 1 GiB for the directory and
    /// PostgreSQL stores, so that a model of up to 2^28 parameters can train on a durable pool without a setting.
    /// </summary>
    public long? MaxBlobBytes { get; set; }

    public const long DefaultMemoryMaxBlobBytes = 64L * 1024 * 1024;

    public const long DefaultMaxBlobBytes = 1024L * 1024 * 1024;

    /// <summary>The limit for the memory store.</summary>
    public long MemoryMaxBlobBytes => MaxBlobBytes ?? DefaultMemoryMaxBlobBytes;

    /// <summary>The limit for the directory and PostgreSQL stores.</summary>
    public long DurableMaxBlobBytes => MaxBlobBytes ?? DefaultMaxBlobBytes;

    /// <summary>What the memory store may hold in all.</summary>
    public long MemoryLimitBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>What the directory or PostgreSQL store may hold in all; unset: bounded by its disk or database only.</summary>
    public long? QuotaBytes { get; set; }

    /// <summary>The directory store's folder; unset: <see cref="DefaultPath"/>.</summary>
    public string? Path { get; set; }

    /// <summary>An unreferenced blob is kept this long after it was stored or lost its last reference.</summary>
    public TimeSpan CollectGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the silo collects unreferenced blobs.</summary>
    public TimeSpan CollectInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Bytes per row of the PostgreSQL store.</summary>
    public int ChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Where a stand-alone silo and Api on one machine share blobs when nothing is configured: the user's local
    /// application data (<c>~/.local/share/huginn/blobs</c> on Linux), else the temp folder.
    /// </summary>
    public static string DefaultPath
    {
        get
        {
            var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            return System.IO.Path.Combine(string.IsNullOrEmpty(data) ? System.IO.Path.GetTempPath() : data, "huginn", "blobs");
        }
    }
}
