using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Huginn.Benchmarks;

/// <summary>
/// CPU time, which other processes on this shared machine do not inflate the way they inflate wall time: the calling
/// thread's (Linux clock_gettime, CLOCK_THREAD_CPUTIME_ID; NaN elsewhere) and the whole process's.
/// </summary>
internal static class Row4CpuClock
{
    private const int ThreadCpuTimeClock = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    // DllImport rather than LibraryImport: the generated stub needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public static double ThreadSeconds()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(ThreadCpuTimeClock, out var time) != 0) return double.NaN;
        return time.Seconds + time.Nanoseconds / 1e9;
    }

    public static double ProcessSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
