using System.Diagnostics;
using System.Globalization;
using TorchSharp;

namespace Huginn.Worker.Hardware;

/// <summary>Detects what this machine can run and how fast, once, at start-up.</summary>
public static class HardwareProbe
{
    private static readonly TimeSpan BenchmarkBudget = TimeSpan.FromSeconds(0.3);

    /// <summary>
    /// CUDA when libtorch sees a GPU, else the CPU. Sets libtorch's intra-op threads to <paramref name="threads"/>
    /// when given (process-wide), applies the precision settings verification relies on, and measures fp32
    /// matmul throughput on the chosen device.
    /// </summary>
    public static HardwareProfile Detect(int? threads = null)
    {
        if (threads is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count, nameof(threads));
            torch.set_num_threads(count);
        }
        TorchPrecision.Apply();

        var cuda = torch.cuda.is_available();
        var (gpuName, vramMb) = cuda ? QueryNvidiaSmi() : (null, 0L);
        var device = cuda ? "cuda" : "cpu";
        return new HardwareProfile(
            Kind: cuda ? "gpu" : "cpu",
            GpuName: gpuName,
            VramMb: vramMb,
            Gflops: MeasureGflops(torch.device(device)),
            CpuCores: Environment.ProcessorCount,
            MemoryMb: MemoryMb(),
            Runtimes: ["torch"],
            TorchDevice: device);
    }

    /// <summary>
    /// Sustained fp32 matmul rate in GFLOP/s: a warm-up, then back-to-back products until the budget is spent.
    /// 512² on a CPU is large enough to reach the BLAS kernels' peak; a GPU needs 2048² to be busy rather than
    /// launch-bound.
    /// </summary>
    internal static double MeasureGflops(torch.Device device, TimeSpan? budget = null)
    {
        var limit = budget ?? BenchmarkBudget;
        var cuda = device.type == DeviceType.CUDA;
        var n = cuda ? 2048 : 512;
        var flopsPerProduct = 2.0 * n * n * n;
        using var scope = torch.NewDisposeScope();
        var a = torch.rand(n, n, torch.float32, device);
        var b = torch.rand(n, n, torch.float32, device);

        void Run(int products)
        {
            for (var i = 0; i < products; i++)
            {
                using var c = a.mm(b);
            }
            if (cuda) torch.cuda.synchronize(device);
        }

        Run(2);
        var products = 0;
        var clock = Stopwatch.StartNew();
        // Checked in groups so that a GPU queue is drained (synchronize) before the clock is read.
        var group = cuda ? 8 : 1;
        do
        {
            Run(group);
            products += group;
        }
        while (clock.Elapsed < limit);
        return products * flopsPerProduct / clock.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>
    /// MemTotal from /proc/meminfo, capped by the memory the runtime may use (a container's cgroup limit, which
    /// /proc/meminfo does not show); the runtime's figure alone where /proc is missing.
    /// </summary>
    internal static long MemoryMb()
    {
        var runtimeMb = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes >> 20;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
                var kb = long.Parse(line["MemTotal:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
                var totalMb = kb >> 10;
                return runtimeMb > 0 ? Math.Min(totalMb, runtimeMb) : totalMb;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
        }
        return runtimeMb;
    }

    /// <summary>
    /// Name and memory of the GPU libtorch uses by default: the first of CUDA_VISIBLE_DEVICES (an index or a
    /// UUID, which nvidia-smi does not apply by itself), else GPU 0. libtorch exposes neither, so this asks
    /// nvidia-smi. Without it (another vendor, a container without the tool) the name is unknown (null) and the
    /// memory 0 rather than a guess: the pool refuses a GPU that reports no VRAM (DeviceCapabilities.Validate),
    /// so such a machine must be told its VRAM or join as a CPU; it is never routed shards it cannot hold.
    /// </summary>
    private static (string? Name, long VramMb) QueryNvidiaSmi()
    {
        try
        {
            var visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES")?.Split(',')[0].Trim();
            var id = string.IsNullOrEmpty(visible) ? "0" : visible;
            var start = new ProcessStartInfo("nvidia-smi")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "--query-gpu=name,memory.total", "--format=csv,noheader,nounits", $"--id={id}" })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start);
            if (process is null) return (null, 0);
            // Drained so that a chatty failure cannot fill the pipe and block the tool; its text is not needed.
            _ = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(5000) || process.ExitCode != 0) return (null, 0);
            var fields = output.Trim().Split(',', StringSplitOptions.TrimEntries);
            return fields.Length == 2 && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var mb)
                ? (fields[0], mb)
                : (fields.Length > 0 && fields[0].Length > 0 ? fields[0] : null, 0);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return (null, 0);
        }
    }
}
