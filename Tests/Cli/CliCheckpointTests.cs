using Huginn.Tests.Api;
using Huginn.Workloads;

namespace Huginn.Tests.Cli;

/// <summary>huginn checkpoints and huginn result --format safetensors [--round N] (issue 13, items 2 and 3).</summary>
public sealed partial class CliTests
{
    [Fact]
    public async Task Checkpoints_are_listed_and_a_round_downloads_as_safetensors()
    {
        await using var workers = new RunningWorkers(fixture);
        for (var i = 0; i < 3; i++) await workers.StartAsync($"cli-st-{i}");
        var key = await ClientKeyAsync(1);
        var submit = await Cli(key).RunAsync(["submit", HuginnCli.SampleSpec, "--yes"], JobTimeout);
        AssertExit(0, submit);
        var jobId = JobId().Match(submit.Stdout).Value;

        var listed = await Cli(key).RunAsync("checkpoints", jobId, "--json");
        AssertExit(0, listed);
        Assert.Equal([1, 2, 3], listed.Json().GetProperty("checkpoints").EnumerateArray().Select(c => c.GetProperty("round").GetInt32()));
        Assert.All(listed.Json().GetProperty("checkpoints").EnumerateArray(), c => Assert.Equal(4L * SampleParameters, c.GetProperty("bytes").GetInt64()));
        var table = await Cli(key).RunAsync("checkpoints", jobId);
        AssertExit(0, table);
        Assert.Contains($"huginn result {jobId} --round N", table.Stdout);

        var round2 = Path.Combine(_scratch.FullName, "round2.safetensors");
        var download = await Cli(key).RunAsync("result", jobId, "--format", "safetensors", "--round", "2", "--out", round2, "--json");
        AssertExit(0, download);
        Assert.Equal(("round", 2), (download.Json().GetProperty("checkpoint").GetString(), download.Json().GetProperty("roundsCompleted").GetInt32()));
        var header = SafetensorsFormat.ReadHeader(File.ReadAllBytes(round2));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], header.Tensors.Select(t => t.Name));
        Assert.Equal([32L, 8L], header.Tensors[0].Shape);
        var text = await Cli(key).RunAsync("result", jobId, "--format", "safetensors", "--out", Path.Combine(_scratch.FullName, "final.safetensors"));
        AssertExit(0, text);
        Assert.Contains("(train, safetensors) to", text.Stdout);

        AssertExit(4, await Cli(key).RunAsync("result", jobId, "--round", "9", "--out", Path.Combine(_scratch.FullName, "none.bin")));
    }
}
