using System.Text.Json.Nodes;
using Huginn.Tests.Api;

namespace Huginn.Tests.Cli;

/// <summary>
/// Issue 13, finding 6: the CLI leaked .NET type names ("could not be converted to System.Int32") and read a misspelled
/// field as nothing. A spec file the CLI reads itself, and a flag it parses, get the API's words: the file, the field's
/// path and what it must be.
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Cli")]
public sealed class CliStrictInputTests(ApiPoolFixture fixture) : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("huginn-cli-strict-");

    public static TheoryData<string, string> BadSpecFiles => new()
    {
        { "learning_rate=0.5", "learning_rate: is not a field of this request" },
        { "model.hiden_sizes=[16]", "model.hiden_sizes: is not a field of this request" },
        { "dataset.synthetic.noize=0.1", "dataset.synthetic.noize: is not a field of this request" },
        { "rounds=\"three\"", "rounds: must be an integer from -2^31 to 2^31-1" },
        { "model.hiddenSizes=\"32\"", "model.hiddenSizes: must be an array of integers" },
        { "model.hiddenSizes=[32, 0.5]", "model.hiddenSizes[1]: must be an integer from -2^31 to 2^31-1" },
        { "learningRate=\"fast\"", "learningRate: must be a number" },
        { "seed=-7", "seed: must be an integer from 0 to 2^64-1" },
        { "kind=\"trian\"", "kind: must be one of \"train\", \"infer\", \"prep\"" },
        { "model={}", "model.type: is required" },
    };

    [Theory]
    [MemberData(nameof(BadSpecFiles))]
    public async Task A_bad_spec_file_names_the_file_and_the_field_in_the_apis_words(string change, string expected)
    {
        var spec = JsonNode.Parse(File.ReadAllText(HuginnCli.SampleSpec))!.AsObject();
        var (path, value) = (change[..change.IndexOf('=', StringComparison.Ordinal)], change[(change.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        var segments = path.Split('.');
        var target = spec;
        foreach (var segment in segments[..^1]) target = target[segment]!.AsObject();
        target[segments[^1]] = JsonNode.Parse(value);
        var file = Path.Combine(_scratch.FullName, "bad-spec.json");
        await File.WriteAllTextAsync(file, spec.ToJsonString());

        var run = await new HuginnCli(fixture.Pool.ApiUrl, "hk_unused").RunAsync("estimate", file);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"{file} is not a valid job spec", run.Stderr);
        Assert.Contains(expected, run.Stderr);
        Assert.All(StrictInputTests.DotNetWords, word => Assert.DoesNotContain(word, run.Stderr + run.Stdout));
    }

    [Theory]
    [InlineData(new[] { "account", "credit", "--hu", "lots" }, "--hu: 'lots' must be a number (at most 7.9e28)")]
    [InlineData(new[] { "submit", "SPEC", "--max-hu", "lots", "--yes" }, "--max-hu: 'lots' must be a number (at most 7.9e28)")]
    [InlineData(new[] { "devices", "register", "--name", "d", "--kind", "cpu", "--gflops", "fast", "--memory-mb", "1024" }, "--gflops: 'fast' must be a number")]
    [InlineData(new[] { "devices", "register", "--name", "d", "--kind", "cpu", "--gflops", "5", "--memory-mb", "1.5" }, "--memory-mb: '1.5' must be an integer from -2^63 to 2^63-1")]
    public async Task A_flag_of_the_wrong_type_says_what_it_must_be(string[] args, string expected)
    {
        args = [.. args.Select(a => a == "SPEC" ? HuginnCli.SampleSpec : a)];

        var run = await new HuginnCli(fixture.Pool.ApiUrl, "hk_unused").RunAsync(args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(expected, run.Stderr);
        Assert.All(StrictInputTests.DotNetWords, word => Assert.DoesNotContain(word, run.Stderr + run.Stdout));
    }

    public void Dispose() => _scratch.Delete(recursive: true);
}
