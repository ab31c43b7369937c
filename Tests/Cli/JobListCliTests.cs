using Huginn.Tests.Api;
using Huginn.Worker.Agent;

namespace Huginn.Tests.Cli;

/// <summary>huginn jobs: the caller's jobs as a table, by state, a page or every page, and the API's words for bad flags.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Cli")]
public sealed class JobListCliTests(ApiPoolFixture fixture)
{
    [Fact]
    public async Task Jobs_lists_own_jobs_by_state_and_follows_every_page_with_all()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("cli-list-staller", Fault.Stall);
        await workers.StartAsync("cli-list-staller-b", Fault.Stall);
        using var client = await fixture.ClientWithHuAsync(5m);
        var submitted = new List<string>();
        for (var i = 0; i < 3; i++) submitted.Add((await client.SubmitAsync(EdgeSpecs.Training(1, 1, (ulong)(500 + i)), 1m)).JobId);
        using (var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", client.ApiKey);
            (await http.DeleteAsync($"v1/jobs/{submitted[1]}")).EnsureSuccessStatusCode();
        }
        var cli = new HuginnCli(fixture.Pool.ApiUrl, client.ApiKey);

        var table = await cli.RunAsync("jobs");
        Assert.True(table.ExitCode == 0, table.ToString());
        var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("JOB", lines[0]);
        foreach (var column in new[] { "KIND", "STATE", "ROUND", "SHARDS", "ESTIMATED", "SPENT", "CREATED", "FINISHED" }) Assert.Contains(column, lines[0]);
        // Newest first, one line each, nothing more.
        Assert.Equal([submitted[2], submitted[1], submitted[0]], lines[1..].Select(l => l.Split(' ')[0]));
        Assert.Contains("cancelled", lines[2]);
        Assert.Contains(" HU", lines[1]);

        var cancelled = await cli.RunAsync("jobs", "--state", "cancelled", "--json");
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        Assert.Equal([submitted[1]], cancelled.Json().GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()));

        // One job a page: without --all the newest and a hint; with --all every page, in order.
        var onePage = await cli.RunAsync("jobs", "--limit", "1");
        Assert.Contains(submitted[2], onePage.Stdout);
        Assert.DoesNotContain(submitted[0], onePage.Stdout);
        Assert.Contains("huginn jobs --all", onePage.Stdout);
        var all = await cli.RunAsync("jobs", "--limit", "1", "--all", "--json");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal([submitted[2], submitted[1], submitted[0]], all.Json().GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()));
        var activeAll = await cli.RunAsync("jobs", "--limit", "1", "--all", "--state", "queued", "--state", "running");
        Assert.Equal([submitted[2], submitted[0]], activeAll.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..].Select(l => l.Split(' ')[0]));

        // The API's message for a bad state, as the user wrote it, and the usage-error exit code of an invalid request.
        var bad = await cli.RunAsync("jobs", "--state", "finished");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("state", bad.Stderr);
        Assert.Contains("'finished' is not a state", bad.Stderr);

        var empty = await new HuginnCli(fixture.Pool.ApiUrl, (await fixture.ClientWithHuAsync(0.000001m)).ApiKey).RunAsync("jobs");
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.Equal("No jobs.", empty.Stdout.Trim());

        foreach (var jobId in submitted) await cli.RunAsync("cancel", jobId);
    }
}
