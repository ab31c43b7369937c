namespace Huginn.Tests.Deploy;

/// <summary>How the silo refuses a Kubernetes configuration that would orphan the pool's data.</summary>
public sealed class SiloKubernetesHostingTests
{
    [Fact]
    public async Task Silo_refuses_to_start_when_the_pod_label_names_another_ServiceId()
    {
        var (exitCode, output) = await SiloCommand.RunAsync([], new()
        {
            ["Huginn__Kubernetes"] = "true",
            ["ORLEANS_SERVICE_ID"] = "not-huginn",
            ["Huginn__Blobs__Path"] = Path.Combine(Path.GetTempPath(), $"huginn-k8s-{Guid.NewGuid():N}"),
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("ORLEANS_SERVICE_ID='not-huginn'", output);
    }
}
