namespace Huginn.Worker.Hardware;

/// <summary>
/// What this machine offers the pool, measured once at start-up. <see cref="Kind"/> is "gpu" or "cpu" (the wire
/// names of DeviceKind); <see cref="TorchDevice"/> ("cuda" or "cpu") is where every tensor of every shard lives.
/// <see cref="VramMb"/> is 0 on a CPU, and on a GPU whose memory could not be read.
/// </summary>
public sealed record HardwareProfile(
    string Kind,
    string? GpuName,
    long VramMb,
    double Gflops,
    int CpuCores,
    long MemoryMb,
    string[] Runtimes,
    string TorchDevice);
