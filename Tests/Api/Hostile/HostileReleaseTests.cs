using Huginn.Protocol;
using Huginn.Tests.Pool;

namespace Huginn.Tests.Api.Hostile;

/// <summary>
/// A release's words reach the job's owner in its failure reason: the edge sanitizes them again whatever the worker
/// did (paths, secrets, stack traces, length), and reads an unknown code as "internal".
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class HostileReleaseTests(ApiPoolFixture fixture)
{
    [Fact]
    public async Task A_workers_release_text_is_sanitized_at_the_edge_before_it_reaches_the_failure_reason()
    {
        const string hostile = "Class index 9 is bad; see /home/eve/.huginn/token.txt, key hd_AAAAAAAAAAAAAAAAAAAAAAAA\n   at Evil.Worker.Run() in /src/x.cs:line 1";
        var first = await fixture.DeviceAsync("release-text-a");
        var second = await fixture.DeviceAsync("release-text-b");
        using var socketA = await fixture.ConnectRawAsync(first.Token);
        using var socketB = await fixture.ConnectRawAsync(second.Token);
        var framesA = await SocketProbe.HelloAsync(socketA);
        var framesB = await SocketProbe.HelloAsync(socketB);
        using var client = await fixture.ClientWithHuAsync(5);

        var job = await client.SubmitAsync(EdgeSpecs.Training(rounds: 1, shards: 1));
        // The shard goes to one device, is given back, and goes to the other: each gives it back the same way.
        _ = ReleaseEachAssignmentAsync(framesA);
        _ = ReleaseEachAssignmentAsync(framesB);
        var done = await Eventually.UntilAsync(() => client.JobAsync(job.JobId), j => j.State is "failed" or "completed", "the job failing fast", TimeSpan.FromSeconds(30));

        Assert.Equal("failed", done.State);
        Assert.StartsWith("invalid_data: shard 0 of round 1 failed the same way on devices of 2 contributors: \"Class index 9 is bad; see (path), key (redacted)\"", done.FailureReason);
        Assert.DoesNotContain("/home/eve", done.FailureReason);
        Assert.DoesNotContain("hd_", done.FailureReason);
        Assert.DoesNotContain("Evil", done.FailureReason);
        await fixture.AssertLedgerBalancedAsync();

        async Task ReleaseEachAssignmentAsync(FrameSocket frames)
        {
            try
            {
                for (var i = 0; i < 20; i++)
                {
                    if (await SocketProbe.NextAsync(frames) is AssignMessage assign)
                        await frames.SendAsync(new ReleaseMessage(assign.LeaseId, hostile + new string('x', 2000), "invalid_data"), CancellationToken.None);
                }
            }
            catch (Exception)
            {
                // The socket closed, was disposed or went quiet once the job ended: nothing more to release.
            }
        }
    }
}
