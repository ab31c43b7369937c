using Huginn.Worker.Hardware;
using TorchSharp;

namespace Huginn.Tests.Worker;

[Collection(TorchCollection.Name), Trait("Category", "Torch")]
public sealed class HardwareProbeTests(TorchFixture fixture)
{
    [Fact]
    public void Hardware_probe_reports_positive_gflops_and_memory()
    {
        var profile = fixture.Profile;

        Assert.True(profile.Gflops > 0 && double.IsFinite(profile.Gflops), $"gflops {profile.Gflops}");
        Assert.True(profile.MemoryMb > 0, $"memory {profile.MemoryMb} MiB");
        Assert.Equal(Environment.ProcessorCount, profile.CpuCores);
        Assert.Equal(["torch"], profile.Runtimes);
        if (torch.cuda.is_available())
        {
            Assert.Equal(("gpu", "cuda"), (profile.Kind, profile.TorchDevice));
        }
        else
        {
            Assert.Equal(("cpu", "cpu", null, 0L), (profile.Kind, profile.TorchDevice, profile.GpuName, profile.VramMb));
        }
    }

    [Fact]
    public void Hardware_probe_sets_the_thread_count_it_is_given()
    {
        var before = torch.get_num_threads();
        try
        {
            var profile = HardwareProbe.Detect(threads: 1);

            Assert.Equal(1, torch.get_num_threads());
            Assert.True(profile.Gflops > 0);
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Fact]
    public void Hardware_probe_turns_tf32_off()
    {
        Assert.False(torch.backends.cuda.matmul.allow_tf32);
        Assert.False(torch.backends.cudnn.allow_tf32);
    }
}
