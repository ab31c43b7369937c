using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Huginn.Api.Apis;
using Huginn.Protocol;
using Huginn.Tests.Pool;
using Huginn.Workloads;

namespace Huginn.Tests.Api;

/// <summary>
/// Issue 13, finding 5: estimate priced specs that submit refused, and a shard that failed on the data failed its job
/// only after lease upon lease, saying "no device could run it". Estimate and submit now run one path of checks, and
/// real workers report why a shard failed.
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class EstimateMatchesSubmitTests(ApiPoolFixture fixture)
{
    private const string NoSuchBlob = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Specs a submission refuses, each with the field it names.</summary>
    public static IEnumerable<(string Name, JobSpec Spec, string Field)> Refused() =>
    [
        ("invalid spec", EdgeSpecs.Training(1, 1) with { Rounds = 0 }, "rounds"),
        ("unknown model", EdgeSpecs.Training(1, 1) with { Model = EdgeSpecs.Training(1, 1).Model! with { Type = "rnn" } }, "model.type"),
        ("dataset blob that does not exist", EdgeSpecs.Training(1, 1) with { Dataset = new DatasetSpec { BlobId = NoSuchBlob, Samples = 128 } }, "dataset.blobId"),
        ("weights blob that does not exist", EdgeSpecs.Training(1, 1) with { WeightsBlobId = NoSuchBlob }, "weightsBlobId"),
        ("weights from a job that does not exist", EdgeSpecs.Training(1, 1) with { WeightsFromJobId = "job_0123456789abcdef0123456789abcdef" }, "weightsFromJobId"),
        ("bf16 on a pool without GPUs", EdgeSpecs.Training(1, 1) with { Precision = NumericPrecision.Bf16 }, "spec"),
        ("a model larger than the pool runs", EdgeSpecs.Training(1, 1) with { Model = EdgeSpecs.Training(1, 1).Model! with { InputSize = 1_000_000, HiddenSizes = [4096, 4096] } }, "model"),
    ];

    [Fact]
    public async Task Estimate_refuses_every_spec_submit_refuses_with_the_same_field_errors()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("checks-a");
        await workers.StartAsync("checks-b");
        using var client = await fixture.ClientWithHuAsync(5);
        using var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", client.ApiKey);
        // The table is not vacuous: the pool would run the valid spec these are variations of.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "v1/estimates", EdgeSpecs.Training(1, 1))).StatusCode);

        foreach (var (name, spec, field) in Refused())
        {
            var estimate = await PostAsync(http, "v1/estimates", spec);
            var submit = await PostAsync(http, "v1/jobs", new SubmitJobRequest(spec, null));

            Assert.True(submit.StatusCode == HttpStatusCode.BadRequest, $"{name}: submit answered {submit.StatusCode}");
            Assert.True(estimate.StatusCode == HttpStatusCode.BadRequest, $"{name}: estimate answered {estimate.StatusCode}, submit 400");
            var submitErrors = (await submit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            var estimateErrors = (await estimate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            Assert.True(submitErrors.GetRawText() == estimateErrors.GetRawText(), $"{name}: submit said {submitErrors}, estimate {estimateErrors}");
            Assert.True(estimateErrors.TryGetProperty(field, out _), $"{name}: no error on {field} in {estimateErrors}");
        }
        Assert.Equal(5m, (await client.MeAsync()).BalanceHu);
    }

    /// <summary>The case end to end: a label outside the model's classes, two real workers of two owners, the real edge.</summary>
    [Fact]
    public async Task A_label_outside_the_models_classes_fails_the_job_at_once_with_the_workers_words()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("labels-a");
        await workers.StartAsync("labels-b");
        using var client = await fixture.ClientWithHuAsync(5);
        // Rows of two features and a class label; the model has classes 0 and 1, and one row says 5.
        const int samples = 64;
        var rows = new float[samples * 3];
        for (var i = 0; i < samples; i++) (rows[3 * i], rows[3 * i + 1], rows[3 * i + 2]) = (i % 7, i % 5, i == 17 ? 5 : i % 2);
        var blobId = await client.UploadAsync(Tensors.ToBytes(rows));
        var spec = new JobSpec
        {
            Kind = WorkloadKind.Train,
            Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 2, HiddenSizes = [4], OutputSize = 2, Loss = ModelSpec.CrossEntropy },
            Dataset = new DatasetSpec { BlobId = blobId, Samples = samples },
            Rounds = 3, ShardsPerRound = 1, LocalSteps = 2, BatchSize = 8, Seed = 3,
        };

        var job = await client.SubmitAsync(spec);
        var done = await Eventually.UntilAsync(() => client.JobAsync(job.JobId), j => j.State is "failed" or "completed", "the job finishing", TimeSpan.FromSeconds(60));

        Assert.Equal("failed", done.State);
        Assert.StartsWith("invalid_data: shard 0 of round 1 failed the same way on devices of 2 contributors: \"Class index 5 is not one of the model's 2 classes", done.FailureReason);
        Assert.Equal(0m, done.SpentHu);
        Assert.Equal(done.EscrowHu, done.RefundedHu);
        await fixture.AssertLedgerBalancedAsync();
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, object body) =>
        http.PostAsync(path, JsonContent.Create(body, body.GetType(), options: Frame.Json));
}
