using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Huginn.Api.Apis;
using Huginn.Demo;
using Huginn.Protocol;
using Huginn.Worker.Agent;

namespace Huginn.Tests.Api;

/// <summary>GET /v1/jobs: own jobs only, newest first, by state, a page at a time with a cursor that new jobs do not shift.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class JobListApiTests(ApiPoolFixture fixture)
{
    private HttpClient Http(string key)
    {
        var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<JobListResponse> ListAsync(HttpClient http, string query)
    {
        var response = await http.GetAsync($"v1/jobs{query}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET v1/jobs{query}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JobListResponse>(Frame.Json))!;
    }

    private static async Task<string> SubmitAsync(PoolClient client, ulong seed) =>
        (await client.SubmitAsync(EdgeSpecs.Training(rounds: 1, shards: 1, seed), maxHu: 1m)).JobId;

    /// <summary>
    /// A device that takes a lease and never answers keeps every job queued or running for as long as the test needs:
    /// their states change only when the test cancels them.
    /// </summary>
    [Fact]
    public async Task Listing_is_newest_first_by_state_and_pages_stay_stable_while_jobs_are_added()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("list-staller", Fault.Stall);
        await workers.StartAsync("list-staller-b", Fault.Stall);
        using var client = await fixture.ClientWithHuAsync(20m);
        using var http = Http(client.ApiKey!);

        var submitted = new List<string>();
        for (var i = 0; i < 5; i++) submitted.Add(await SubmitAsync(client, (ulong)(100 + i)));
        foreach (var jobId in new[] { submitted[1], submitted[3] }) (await http.DeleteAsync($"v1/jobs/{jobId}")).EnsureSuccessStatusCode();
        var newestFirst = Enumerable.Reverse(submitted).ToList();

        var everything = await ListAsync(http, "");
        Assert.Equal(newestFirst, everything.Jobs.Select(j => j.JobId));
        Assert.Null(everything.Cursor);
        var first = everything.Jobs.Single(j => j.JobId == submitted[0]);
        Assert.Equal("train", first.Kind);
        Assert.Equal(1, first.Progress.Rounds);
        Assert.True(first.EstimatedHu > 0);
        Assert.Null(first.ActualHu);
        Assert.Null(first.FinishedAt);
        var cancelled = everything.Jobs.Single(j => j.JobId == submitted[3]);
        Assert.Equal("cancelled", cancelled.State);
        Assert.NotNull(cancelled.ActualHu);
        Assert.NotNull(cancelled.FinishedAt);

        Assert.Equal([submitted[3], submitted[1]], (await ListAsync(http, "?state=cancelled")).Jobs.Select(j => j.JobId));
        // A comma list and a repeated parameter mean the same.
        var active = (await ListAsync(http, "?state=queued,running")).Jobs.Select(j => j.JobId).ToList();
        Assert.Equal([submitted[4], submitted[2], submitted[0]], active);
        Assert.Equal(active, (await ListAsync(http, "?state=queued&state=running")).Jobs.Select(j => j.JobId));
        Assert.Empty((await ListAsync(http, "?state=completed")).Jobs);

        // Pages of two, with two jobs submitted after the first page: the later pages go on where the first stopped.
        var page1 = await ListAsync(http, "?limit=2");
        Assert.Equal(newestFirst[..2], page1.Jobs.Select(j => j.JobId));
        Assert.NotNull(page1.Cursor);
        var added = new[] { await SubmitAsync(client, 200), await SubmitAsync(client, 201) };
        var page2 = await ListAsync(http, $"?limit=2&cursor={Uri.EscapeDataString(page1.Cursor!)}");
        Assert.Equal(newestFirst[2..4], page2.Jobs.Select(j => j.JobId));
        var page3 = await ListAsync(http, $"?limit=2&cursor={Uri.EscapeDataString(page2.Cursor!)}");
        Assert.Equal(newestFirst[4..], page3.Jobs.Select(j => j.JobId));
        Assert.Null(page3.Cursor);
        // The new jobs head a fresh listing.
        Assert.Equal(added.Reverse(), (await ListAsync(http, "?limit=2")).Jobs.Select(j => j.JobId));
        // A cursor with a state filter pages through that state only.
        var activePage = await ListAsync(http, "?state=running,queued&limit=3");
        Assert.Equal([added[1], added[0], submitted[4]], activePage.Jobs.Select(j => j.JobId));
        Assert.Equal([submitted[2], submitted[0]],
            (await ListAsync(http, $"?state=running,queued&limit=3&cursor={Uri.EscapeDataString(activePage.Cursor!)}")).Jobs.Select(j => j.JobId));

        foreach (var jobId in submitted.Concat(added)) await http.DeleteAsync($"v1/jobs/{jobId}");
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Another_accounts_jobs_are_never_listed()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("list-staller-2", Fault.Stall);
        await workers.StartAsync("list-staller-2b", Fault.Stall);
        using var alice = await fixture.ClientWithHuAsync(5m);
        using var bob = await fixture.ClientWithHuAsync(5m);
        var alicesJob = await SubmitAsync(alice, 300);
        var bobsJob = await SubmitAsync(bob, 301);
        using var aliceHttp = Http(alice.ApiKey!);
        using var bobHttp = Http(bob.ApiKey!);
        using var carolHttp = Http((await fixture.ClientWithHuAsync(0.000001m)).ApiKey!);

        Assert.Equal([alicesJob], (await ListAsync(aliceHttp, "")).Jobs.Select(j => j.JobId));
        Assert.Equal([bobsJob], (await ListAsync(bobHttp, "")).Jobs.Select(j => j.JobId));
        Assert.Empty((await ListAsync(carolHttp, "")).Jobs);
        // A cursor from Alice's pages is only a position: Bob's listing below it holds his own job, never hers.
        await SubmitAsync(alice, 302);
        var alicesPage = await ListAsync(aliceHttp, "?limit=1");
        Assert.Equal([bobsJob], (await ListAsync(bobHttp, $"?cursor={Uri.EscapeDataString(alicesPage.Cursor!)}")).Jobs.Select(j => j.JobId));
        foreach (var job in (await ListAsync(aliceHttp, "")).Jobs) await aliceHttp.DeleteAsync($"v1/jobs/{job.JobId}");

        await bobHttp.DeleteAsync($"v1/jobs/{bobsJob}");
    }

    [Theory]
    [InlineData("?state=done", "state")]
    [InlineData("?state=queued,bogus", "state")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=201", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?cursor=not-a-cursor", "cursor")]
    [InlineData("?cursor=ajE6MA", "cursor")] // "j1:0": well-formed, but no page ever ends at 0
    public async Task Bad_query_parameters_are_400s_naming_the_parameter(string query, string field)
    {
        using var client = await fixture.ClientWithHuAsync(0.000001m);
        using var http = Http(client.ApiKey!);
        var response = await http.GetAsync($"v1/jobs{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Listing_needs_a_key()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v1/jobs")).StatusCode);
    }

    /// <summary>Sum of the samples of a counter family whose labels include <paramref name="label"/> (0 before the first).</summary>
    private static async Task<double> SumAsync(HttpClient http, string family, (string Name, string Value) label)
    {
        var text = await http.GetStringAsync("metrics");
        return text.Split('\n')
            .Where(line => line.StartsWith(family + "_total{", StringComparison.Ordinal) && line.Contains($"{label.Name}=\"{label.Value}\"", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Metrics_count_jobs_by_state_and_accepted_shards()
    {
        using var metrics = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        var cancelledBefore = await SumAsync(metrics, "huginn_pool_jobs_finished", ("state", "cancelled"));
        var submittedBefore = await SumAsync(metrics, "huginn_pool_jobs_submitted", ("kind", "train"));
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("metrics-staller", Fault.Stall);
        await workers.StartAsync("metrics-staller-b", Fault.Stall);
        using var client = await fixture.ClientWithHuAsync(5m);
        using var http = Http(client.ApiKey!);

        var jobId = await SubmitAsync(client, 400);
        (await http.DeleteAsync($"v1/jobs/{jobId}")).EnsureSuccessStatusCode();

        // Other collections' silos share this process's meter: the counters may grow by more, never by less.
        await Pool.Eventually.UntilAsync(() => SumAsync(metrics, "huginn_pool_jobs_submitted", ("kind", "train")),
            v => v >= submittedBefore + 1, "the submitted-jobs counter counting the job");
        await Pool.Eventually.UntilAsync(() => SumAsync(metrics, "huginn_pool_jobs_finished", ("state", "cancelled")),
            v => v >= cancelledBefore + 1, "the finished-jobs counter counting the cancelled job under state=\"cancelled\"");
    }

    [Fact]
    public async Task Metrics_count_completed_jobs_and_accepted_shards()
    {
        using var metrics = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        var completedBefore = await SumAsync(metrics, "huginn_pool_jobs_finished", ("state", "completed"));
        var acceptedBefore = await SumAsync(metrics, "huginn_pool_shards_accepted", ("verified", "true"))
            + await SumAsync(metrics, "huginn_pool_shards_accepted", ("verified", "false"));
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("metrics-honest-a");
        await workers.StartAsync("metrics-honest-b");
        using var client = await fixture.ClientWithHuAsync(5m);

        var jobId = (await client.SubmitAsync(EdgeSpecs.Training(rounds: 1, shards: 2, seed: 401), maxHu: 1m)).JobId;
        var job = await Pool.Eventually.UntilAsync(() => client.JobAsync(jobId), j => j.State is "completed" or "failed" or "cancelled", "the job finishing");
        Assert.Equal("completed", job.State);

        await Pool.Eventually.UntilAsync(() => SumAsync(metrics, "huginn_pool_jobs_finished", ("state", "completed")),
            v => v >= completedBefore + 1, "the finished-jobs counter counting the job under state=\"completed\"");
        await Pool.Eventually.UntilAsync(async () => await SumAsync(metrics, "huginn_pool_shards_accepted", ("verified", "true"))
                + await SumAsync(metrics, "huginn_pool_shards_accepted", ("verified", "false")),
            v => v >= acceptedBefore + 2, "the accepted-shards counter counting the job's two shards");
    }
}
