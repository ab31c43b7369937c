using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>The index behind GET /v1/jobs: order, filter, cursor, idempotent records, and state that outlives its activation.</summary>
[Collection(PoolCollection.Name)]
public sealed class OwnerJobsGrainTests(PoolClusterFixture fixture)
{
    private static readonly DateTimeOffset Created = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static OwnedJob Job(int n, JobStatus status = JobStatus.Queued) => new($"job_{n}", WorkloadKind.Train, status, Created.AddMinutes(n));

    [Fact]
    public async Task Jobs_list_newest_first_by_state_and_survive_their_grains_deactivation()
    {
        var index = fixture.Client.GetGrain<IOwnerJobsGrain>($"acct_{Guid.NewGuid():N}");
        for (var n = 1; n <= 4; n++) await index.RecordAsync(Job(n));
        await index.RecordAsync(Job(2, JobStatus.Running));
        await index.RecordAsync(Job(3, JobStatus.Completed));
        // A repeated report (a job's next activation) neither adds nor moves a job.
        await index.RecordAsync(Job(3, JobStatus.Completed));
        await index.RecordAsync(Job(1));

        await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var all = await index.ListAsync(new OwnedJobQuery([], 10, null));
        Assert.Equal(["job_4", "job_3", "job_2", "job_1"], all.Jobs.Select(j => j.JobId));
        Assert.Equal([JobStatus.Queued, JobStatus.Completed, JobStatus.Running, JobStatus.Queued], all.Jobs.Select(j => j.Status));
        Assert.Equal(Created.AddMinutes(2), all.Jobs[2].CreatedAt);
        Assert.Null(all.Next);

        var queued = await index.ListAsync(new OwnedJobQuery([JobStatus.Queued], 1, null));
        Assert.Equal(["job_4"], queued.Jobs.Select(j => j.JobId));
        var rest = await index.ListAsync(new OwnedJobQuery([JobStatus.Queued], 1, queued.Next));
        Assert.Equal(["job_1"], rest.Jobs.Select(j => j.JobId));
        Assert.Null(rest.Next);

        // A job added after a page was read does not shift the pages below its cursor.
        var page = await index.ListAsync(new OwnedJobQuery([], 2, null));
        await index.RecordAsync(Job(5));
        Assert.Equal(["job_2", "job_1"], (await index.ListAsync(new OwnedJobQuery([], 2, page.Next))).Jobs.Select(j => j.JobId));
    }
}
