namespace Huginn.Tests.Workloads;

/// <summary>
/// Bits pinned by the determinism tests. They are the cross-device contract: every device must produce exactly
/// these, so a change here means honest devices of the old and the new release would disagree.
/// </summary>
internal static class Golden
{
    /// <summary>The first three values of <c>new DeterministicRandom(42)</c>.</summary>
    public const ulong Random0 = 1546998764402558742;
    public const ulong Random1 = 6990951692964543102;
    public const ulong Random2 = 12544586762248559009;
    /// <summary><c>DeterministicRandom.Derive(42, 1, 2)</c>.</summary>
    public const ulong Derived = 4513344080959013578;
    /// <summary>Initial weights of mlp 10 → 20 → 3 for seed 42, as a weights blob.</summary>
    public const string MlpWeightsDigest = "93c7d6ffdef2de867caff34044c4581207274267eb5f9ab7c30031e667af87ca";
    /// <summary>Samples 10..29 of synthetic datasets with seed 7, as f32 blobs.</summary>
    public const string TeacherSliceDigest = "c2ffad1cd387ad32bb8cb36150c39c241a120268bb4ddf0ef589bfac21085b74";
    public const string BlobsSliceDigest = "ed6962382d35237059dff50b4a2968a3a37ebea4c3ffa7f45b7d9af5f4dcb773";
    public const string TokenSliceDigest = "c1d35003cdebf76b40959c622051e6719374e370280d9acd68fcf163d16b74d2";
    /// <summary>The quantize-int8 output of shard 1 of <c>ExampleSpecs.Prep()</c>.</summary>
    public const string QuantizedDigest = "4de6e2ccb7e5df2a9d1fbdab81efe39c6680929fe85553e1682781d4b9eeb85e";
}
