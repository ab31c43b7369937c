using System.Security.Cryptography;
using Huginn.Tests.Api;

namespace Huginn.Tests.Cli;

/// <summary>huginn data upload | list | show | delete, as a real process against the real local pool.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Cli")]
public sealed class DataCliTests(ApiPoolFixture fixture) : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("huginn-data-cli-");

    private HuginnCli Cli(string? key = null) => new(fixture.Pool.ApiUrl, key);

    private static void AssertExit(int expected, CliRun run) => Assert.True(run.ExitCode == expected, $"expected exit {expected}\n{run}");

    private async Task<string> ClientKeyAsync()
    {
        var created = await Cli().RunAsync("account", "create", "--name", "data-cli", "--role", "client", "--json");
        AssertExit(0, created);
        return created.Json().GetProperty("apiKey").GetString()!;
    }

    private string WriteFile(byte[] bytes)
    {
        var path = Path.Combine(_scratch.FullName, $"rows-{Guid.NewGuid():N}.f32");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public async Task Upload_list_show_and_delete_a_dataset()
    {
        var key = await ClientKeyAsync();
        var file = WriteFile(DatasetUploads.ClassRows(300, 4, classes: 3));

        var uploaded = await Cli(key).RunAsync("data", "upload", file, "--format", "f32", "--features", "4", "--name", "three classes", "--chunk-bytes", "2000", "--json");
        AssertExit(0, uploaded);
        var dataset = uploaded.Json();
        var id = dataset.GetProperty("datasetId").GetString()!;
        Assert.Equal("ready", dataset.GetProperty("state").GetString());
        Assert.Equal(3, dataset.GetProperty("chunkCount").GetInt32());
        Assert.Equal(300, dataset.GetProperty("facts").GetProperty("rows").GetInt64());
        Assert.Equal(2, dataset.GetProperty("facts").GetProperty("targetMax").GetDouble());

        var listed = await Cli(key).RunAsync("data", "list", "--json");
        AssertExit(0, listed);
        Assert.Equal([id], listed.Json().GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("datasetId").GetString()));
        var table = await Cli(key).RunAsync("data", "list");
        Assert.Contains("three classes", table.Stdout);

        var shown = await Cli(key).RunAsync("data", "show", id);
        AssertExit(0, shown);
        Assert.Contains("6000 in 3 chunk(s) of 2000", shown.Stdout);
        Assert.Contains("0 to 2 (whole numbers)", shown.Stdout);
        Assert.Contains($"\"datasetId\": \"{id}\"", shown.Stdout);

        // The same file again is the same dataset: nothing goes up twice.
        var again = await Cli(key).RunAsync("data", "upload", file, "--format", "f32", "--features", "4", "--json");
        AssertExit(0, again);
        Assert.Equal(id, again.Json().GetProperty("datasetId").GetString());

        AssertExit(0, await Cli(key).RunAsync("data", "delete", id));
        var gone = await Cli(key).RunAsync("data", "show", id);
        AssertExit(4, gone);
    }

    [Fact]
    public async Task Upload_run_again_after_an_interruption_sends_only_the_missing_chunks()
    {
        var key = await ClientKeyAsync();
        var bytes = DatasetUploads.ClassRows(300, 4, classes: 3);
        var file = WriteFile(bytes);
        // The first run got two of three chunks up before it was cut off.
        using var api = new DatasetUploads(fixture.Pool.ApiUrl, key);
        var started = await api.CreateAsync(new
        {
            name = "interrupted", format = "f32", featuresPerSample = 4, totalBytes = bytes.Length, chunkBytes = 2000,
            sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        });
        await api.PutChunkAsync(started.DatasetId, 0, bytes.AsMemory(0, 2000));
        await api.PutChunkAsync(started.DatasetId, 2, bytes.AsMemory(4000, 2000));

        var resumed = await Cli(key).RunAsync("data", "upload", file, "--format", "f32", "--features", "4");

        AssertExit(0, resumed);
        Assert.Contains($"resuming {started.DatasetId}: 2 of 3 chunks already uploaded", resumed.Stderr);
        Assert.Contains("chunk 2/3 uploaded (1/1 of this run)", resumed.Stdout);
        Assert.DoesNotContain("chunk 1/3", resumed.Stdout);
        Assert.DoesNotContain("chunk 3/3", resumed.Stdout);
        Assert.Equal("ready", (await api.GetAsync(started.DatasetId)).State);
    }

    [Fact]
    public async Task Upload_without_the_row_shape_shows_the_APIs_field_message_and_exits_2()
    {
        var key = await ClientKeyAsync();
        var file = WriteFile(DatasetUploads.ClassRows(10, 4, classes: 3));

        var refused = await Cli(key).RunAsync("data", "upload", file, "--format", "f32");

        AssertExit(2, refused);
        Assert.Contains("featuresPerSample", refused.Stderr);
        Assert.Contains("the floats of features per row", refused.Stderr);
    }

    public void Dispose() => _scratch.Delete(recursive: true);
}
