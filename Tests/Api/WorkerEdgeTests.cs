using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using Huginn.Demo;
using Huginn.Protocol;
using Huginn.Tests.Pool;
using Huginn.Worker.Agent;
using Huginn.Workloads;

namespace Huginn.Tests.Api;

/// <summary>Real TorchSharp workers over loopback WebSockets against the Api and a silo.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class WorkerEdgeTests(ApiPoolFixture fixture)
{
    private static async Task<Huginn.Api.Apis.JobResponse> FinishedAsync(PoolClient client, string jobId) =>
        await Eventually.UntilAsync(() => client.JobAsync(jobId), j => j.State is "completed" or "failed" or "cancelled",
            $"job {jobId} finishing", TimeSpan.FromSeconds(90));

    [Fact]
    public async Task Training_job_through_real_workers_completes_with_decreasing_loss()
    {
        await using var workers = new RunningWorkers(fixture);
        for (var i = 0; i < 3; i++) await workers.StartAsync($"honest-{i}");
        using var client = await fixture.ClientWithHuAsync(1);

        var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 4, shards: 4));
        var job = await FinishedAsync(client, submitted.JobId);

        Assert.Equal("completed", job.State);
        Assert.Equal(16, job.Progress.ShardsDone);
        Assert.Equal(4, job.Metrics.Loss.Length);
        Assert.True(job.Metrics.VerifiedLosses[^1] < job.Metrics.VerifiedLosses[0], $"loss did not fall: {string.Join(", ", job.Metrics.Loss)}");
        Assert.Empty(job.DevicesCaught);
        var weights = await client.ResultAsync(submitted.JobId);
        Assert.Equal(4 * 161, weights.Length);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Workers_holding_two_leases_run_them_in_turn_and_the_job_completes()
    {
        await using var workers = new RunningWorkers(fixture);
        var ids = new List<string>();
        for (var i = 0; i < 2; i++) ids.Add(await workers.StartAsync($"queued-{i}", slots: 2));
        using var client = await fixture.ClientWithHuAsync(1);

        var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 3, shards: 6));
        var job = await FinishedAsync(client, submitted.JobId);

        Assert.Equal("completed", job.State);
        Assert.Equal(18, job.Progress.ShardsDone);
        Assert.True(job.Metrics.VerifiedLosses[^1] < job.Metrics.VerifiedLosses[0], $"loss did not fall: {string.Join(", ", job.Metrics.Loss)}");
        foreach (var (worker, id) in workers.Workers.Zip(ids))
        {
            var device = await worker.Owner.DeviceAsync(id);
            Assert.Equal(2, device.Capabilities.Slots);
            Assert.Equal(0, device.OpenLeases);
        }
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Faulty_worker_is_caught_unpaid_and_banned_while_the_job_completes()
    {
        await using var workers = new RunningWorkers(fixture);
        var cheater = await workers.StartAsync("cheater", Fault.Wrong);
        await workers.StartAsync("honest-a");
        await workers.StartAsync("honest-b");
        using var client = await fixture.ClientWithHuAsync(1);

        var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 4, shards: 6), maxHu: 0.01m);
        var job = await FinishedAsync(client, submitted.JobId);

        await AssertCaughtUnpaidAndBannedAsync(workers, cheater, job);
        Assert.True(job.Metrics.VerifiedLosses[^1] < job.Metrics.VerifiedLosses[0]);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_result_with_NaN_or_infinite_values_is_refused_at_the_edge_and_counted_against_its_device()
    {
        await using var workers = new RunningWorkers(fixture);
        var cheater = await workers.StartAsync("nan-sender", Fault.NonFinite);
        await workers.StartAsync("honest-c");
        await workers.StartAsync("honest-d");
        using var client = await fixture.ClientWithHuAsync(1);

        var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 3, shards: 6), maxHu: 0.01m);
        var job = await FinishedAsync(client, submitted.JobId);

        // Never stored, never compared, never averaged: each such result is malformed on its face (an invalid verdict).
        await AssertCaughtUnpaidAndBannedAsync(workers, cheater, job);
        // Numbers or null (a round without a verified shard), never NaN or infinity.
        Assert.All(job.Metrics.Loss, loss => Assert.True(loss is null || double.IsFinite(loss.Value)));
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_result_larger_than_a_frame_goes_up_as_a_blob_and_the_job_completes()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("big-a");
        await workers.StartAsync("big-b");
        using var client = await fixture.ClientWithHuAsync(1);
        // 8 → 512 → 512 → 1: a 1.1 MB delta, over this fixture's 1 MiB frame limit, so every result is uploaded first
        // (POST /v1/blobs with the device token) and the result message only names it.
        var spec = EdgeSpecs.Training(rounds: 2, shards: 2) with
        {
            Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 8, HiddenSizes = [512, 512], OutputSize = 1 },
            LocalSteps = 5,
        };
        Assert.True(4L * JobPlanner.Plan(spec).ParameterCount > 1024 * 1024);

        var submitted = await client.SubmitAsync(spec, maxHu: 0.01m);
        var job = await FinishedAsync(client, submitted.JobId);

        Assert.Equal("completed", job.State);
        Assert.Empty(job.DevicesCaught);
        Assert.Equal(4L * JobPlanner.Plan(spec).ParameterCount, (await client.ResultAsync(submitted.JobId)).Length);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Killing_a_worker_mid_shard_moves_its_shard_and_the_job_completes()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("honest-a");
        await workers.StartAsync("honest-b");
        var (victimOwner, victimId, victimToken) = await fixture.DeviceAsync("victim");
        using var client = await fixture.ClientWithHuAsync(1);

        // The victim speaks the protocol, takes a shard, and dies without a word (socket aborted, like a killed process).
        using var victim = await fixture.ConnectRawAsync(victimToken);
        var frames = new FrameSocket(victim, Frame.DefaultMaxFrameBytes);
        await frames.SendAsync(new HelloMessage(Frame.Version, null, "test"), CancellationToken.None);
        var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 2, shards: 6));
        AssignMessage? taken = null;
        while (taken is null)
        {
            var frame = await frames.ReceiveAsync(CancellationToken.None);
            Assert.NotNull(frame);
            Assert.True(Frame.TryDecode(frame, out var message, out _, out _));
            taken = message as AssignMessage;
        }
        victim.Abort();

        var job = await FinishedAsync(client, submitted.JobId);

        Assert.Equal("completed", job.State);
        var device = await victimOwner.DeviceAsync(victimId);
        Assert.Equal("offline", device.Status);
        Assert.Equal(0, device.OpenLeases);
        Assert.Equal(0m, (await victimOwner.MeAsync()).EarnedHu);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Connect_without_a_valid_device_token_is_refused_before_the_upgrade()
    {
        var (owner, _, _) = await fixture.DeviceAsync("owner");
        using var anonymous = fixture.Anonymous();
        var account = await anonymous.CreateAccountAsync("someone", "contributor");

        // Without any header the upgrade goes through: a browser sends its token in the hello (HostileSocketTests).
        foreach (var token in new[] { "hd_not-a-real-token", account.ApiKey })
        {
            var refused = await Assert.ThrowsAsync<WebSocketException>(() => fixture.ConnectRawAsync(token));
            Assert.Contains("401", refused.Message);
        }
        await AssertApiAliveAsync();
    }

    [Fact]
    public async Task Device_token_cannot_call_client_endpoints()
    {
        var (_, _, token) = await fixture.DeviceAsync("device-only");
        using var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("v1/accounts/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync("v1/jobs", new StringContent("{}", null, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task Result_for_a_lease_this_device_does_not_hold_is_refused_and_never_paid()
    {
        var (owner, deviceId, token) = await fixture.DeviceAsync("guesser");
        using var socket = await fixture.ConnectRawAsync(token);
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);
        await frames.SendAsync(new HelloMessage(Frame.Version, null, "test"), CancellationToken.None);
        Assert.IsType<WelcomeMessage>(await NextMessageAsync(frames));

        await frames.SendAsync(new ResultMessage("someone-elses-lease", 0.1, 16, 1, 0), Tensors.ToBytes([1f]), CancellationToken.None);

        var receipt = Assert.IsType<ReceiptMessage>(await NextMessageAsync(frames));
        Assert.Equal("notLeased", receipt.Receipt);
        var error = Assert.IsType<ErrorMessage>(await NextMessageAsync(frames));
        Assert.Equal("not_leased", error.Code);
        Assert.Equal(0m, (await owner.MeAsync()).EarnedHu);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await Eventually.UntilAsync(() => owner.DeviceAsync(deviceId), d => d.Status == "offline", "the device going offline after its socket closed");
    }

    [Fact]
    public async Task Malformed_frames_get_an_error_then_the_connection_is_closed()
    {
        var (_, _, token) = await fixture.DeviceAsync("babbler");
        using var socket = await fixture.ConnectRawAsync(token);
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);
        await frames.SendAsync(new HelloMessage(Frame.Version, null, "test"), CancellationToken.None);
        Assert.IsType<WelcomeMessage>(await NextMessageAsync(frames));

        for (var i = 0; i < 2; i++)
        {
            await socket.SendAsync(new byte[] { 1, 2, 3, 4, 5, 6 }, WebSocketMessageType.Binary, true, CancellationToken.None);
            Assert.Equal("malformed_frame", Assert.IsType<ErrorMessage>(await NextMessageAsync(frames)).Code);
        }
        await socket.SendAsync("not binary"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.IsType<ErrorMessage>(await NextMessageAsync(frames));

        Assert.Null(await frames.ReceiveAsync(CancellationToken.None));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        await AssertApiAliveAsync();
    }

    [Fact]
    public async Task Oversized_frame_closes_the_connection_with_message_too_big()
    {
        var (_, _, token) = await fixture.DeviceAsync("flooder");
        using var socket = await fixture.ConnectRawAsync(token);
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);
        await frames.SendAsync(new HelloMessage(Frame.Version, null, "test"), CancellationToken.None);
        Assert.IsType<WelcomeMessage>(await NextMessageAsync(frames));

        // The test pool's limit is 1 MiB.
        await frames.SendAsync(new ResultMessage("x", 0, 0, 0, 2 * 1024 * 1024), new byte[2 * 1024 * 1024], CancellationToken.None);

        Assert.Null(await frames.ReceiveAsync(CancellationToken.None));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        await AssertApiAliveAsync();
    }

    [Fact]
    public async Task First_frame_must_be_hello_with_a_supported_version()
    {
        var (_, _, token) = await fixture.DeviceAsync("rude");
        using var socket = await fixture.ConnectRawAsync(token);
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);

        await frames.SendAsync(new HelloMessage(99, null, "from the future"), CancellationToken.None);

        Assert.Null(await frames.ReceiveAsync(CancellationToken.None));
        Assert.Equal(WebSocketCloseStatus.ProtocolError, socket.CloseStatus);
        Assert.Contains("version 99", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task A_newer_connection_of_the_same_device_replaces_the_older_one()
    {
        var (owner, deviceId, token) = await fixture.DeviceAsync("twice");
        using var first = await fixture.ConnectRawAsync(token);
        var firstFrames = new FrameSocket(first, Frame.DefaultMaxFrameBytes);
        await firstFrames.SendAsync(new HelloMessage(Frame.Version, null, "one"), CancellationToken.None);
        Assert.IsType<WelcomeMessage>(await NextMessageAsync(firstFrames));

        using var second = await fixture.ConnectRawAsync(token);
        var secondFrames = new FrameSocket(second, Frame.DefaultMaxFrameBytes);
        await secondFrames.SendAsync(new HelloMessage(Frame.Version, null, "two"), CancellationToken.None);
        Assert.IsType<WelcomeMessage>(await NextMessageAsync(secondFrames));

        Assert.Null(await firstFrames.ReceiveAsync(CancellationToken.None));
        Assert.Equal(4409, (int)first.CloseStatus!);
        Assert.Equal("online", (await owner.DeviceAsync(deviceId)).Status);
        await second.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await Eventually.UntilAsync(() => owner.DeviceAsync(deviceId), d => d.Status == "offline", "the device going offline");
    }

    [Fact]
    public async Task Blob_is_stored_under_its_sha256_and_read_back_byte_for_byte()
    {
        using var client = await fixture.ClientWithHuAsync(1);
        var bytes = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();

        var blobId = await client.UploadAsync(bytes);

        Assert.Equal(Digest.Sha256Hex(bytes), blobId);
        using var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"v1/blobs/{blobId}")).StatusCode);
        // The uploader reads it back; a device reads it only while a lease of its needs it (HostileAccessTests).
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", client.ApiKey);
        Assert.Equal(bytes, await http.GetByteArrayAsync($"v1/blobs/{blobId}"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"v1/blobs/{new string('0', 64)}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("v1/blobs/not-a-digest")).StatusCode);
    }

    [Fact]
    public async Task Training_on_an_uploaded_dataset_fetches_it_once_per_worker()
    {
        await using var workers = new RunningWorkers(fixture);
        for (var i = 0; i < 2; i++) await workers.StartAsync($"data-{i}");
        using var client = await fixture.ClientWithHuAsync(1);
        var spec = EdgeSpecs.Training(rounds: 2, shards: 4);
        var data = SyntheticData.Generate(spec.Dataset.Synthetic!, spec.Model!, 0, (int)spec.Dataset.Synthetic!.Samples);
        var blobId = await client.UploadAsync(SyntheticData.ToF32(data));

        var submitted = await client.SubmitAsync(spec with { Dataset = new DatasetSpec { BlobId = blobId, Samples = data.Count } });
        var job = await FinishedAsync(client, submitted.JobId);

        Assert.Equal("completed", job.State);
        Assert.True(job.Metrics.VerifiedLosses[^1] < job.Metrics.VerifiedLosses[0]);
        await fixture.AssertLedgerBalancedAsync();
    }

    private static async Task<ProtocolMessage> NextMessageAsync(FrameSocket frames)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var frame = await frames.ReceiveAsync(timeout.Token) ?? throw new InvalidOperationException("the server closed the socket");
        Assert.True(Frame.TryDecode(frame, out var message, out _, out var error), error);
        return message!;
    }

    /// <summary>The job completed without the cheater: caught, banned, never credited with a shard, never paid.</summary>
    private static async Task AssertCaughtUnpaidAndBannedAsync(RunningWorkers workers, string cheater, Huginn.Api.Apis.JobResponse job)
    {
        Assert.Equal("completed", job.State);
        Assert.Contains(cheater, job.DevicesCaught);
        var owner = workers.Workers.Single(w => w.DeviceId == cheater).Owner;
        var device = await owner.DeviceAsync(cheater);
        Assert.True(device.Banned);
        Assert.Equal(0, device.Verified + device.Unaudited);
        Assert.Equal(0m, (await owner.MeAsync()).EarnedHu);
    }

    private async Task AssertApiAliveAsync()
    {
        using var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
    }
}
