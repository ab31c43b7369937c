using System.Text.Json;
using Huginn.Api.Apis;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;
using Spectre.Console;

namespace Huginn.Tests.Cli;

/// <summary>Validation metrics in GET /v1/jobs/{id}, the events stream, `huginn status` and the live view.</summary>
public sealed class ValidationDisplayTests
{
    private static JobView View(double[] losses, double[] accuracies) => new()
    {
        JobId = "job_v",
        OwnerAccountId = "acct",
        Status = JobStatus.Running,
        Progress = new Huginn.Grains.Interfaces.Jobs.JobProgress(12, 8, 4, 3, 3),
        Estimate = new CostEstimate(1, 0, 0, 1, 0, 15, 1),
        EscrowMicroHu = 10,
        SpentMicroHu = 1,
        RefundedMicroHu = 0,
        RoundLosses = [0.9, 0.5],
        CreatedAt = DateTimeOffset.UnixEpoch,
        DevicesCaught = [],
        Spec = new JobSpec { Kind = WorkloadKind.Train, Rounds = 3, Validation = new ValidationSpec { Fraction = 0.2 } },
        ValidationLosses = losses,
        ValidationAccuracies = accuracies,
    };

    [Fact]
    public void The_job_shows_each_rounds_validation_metrics_null_where_not_evaluated_yet()
    {
        var response = JobsApi.Describe(View([0.8, 0.4, double.NaN], [0.6, 0.9, double.NaN]));
        var json = JsonDocument.Parse(JsonSerializer.Serialize(response, JsonSerializerOptions.Web)).RootElement.GetProperty("metrics");

        Assert.Equal("[0.8,0.4,null]", json.GetProperty("validationLoss").GetRawText());
        Assert.Equal("[0.6,0.9,null]", json.GetProperty("validationAccuracy").GetRawText());
        // A job without a split has no validation arrays.
        var plain = JobsApi.Describe(View([], []) with { Spec = new JobSpec { Kind = WorkloadKind.Train } });
        Assert.Null(plain.Metrics.ValidationLoss);
    }

    [Fact]
    public void The_events_stream_sends_a_validation_event_once_per_evaluated_round()
    {
        var before = View([0.8, double.NaN, double.NaN], [0.6, double.NaN, double.NaN]);
        var after = View([0.8, 0.4, double.NaN], [0.6, 0.9, double.NaN]);

        var first = JobEventStream.Changes(null, before).Where(e => e.Name == "validation").ToList();
        var next = JobEventStream.Changes(before, after).Where(e => e.Name == "validation").ToList();

        Assert.Equal("{\"round\":1,\"loss\":0.8,\"accuracy\":0.6}", JsonSerializer.Serialize(Assert.Single(first).Data, JsonSerializerOptions.Web));
        Assert.Equal("{\"round\":2,\"loss\":0.4,\"accuracy\":0.9}", JsonSerializer.Serialize(Assert.Single(next).Data, JsonSerializerOptions.Web));
        Assert.DoesNotContain(JobEventStream.Changes(after, after), e => e.Name == "validation");
    }

    [Fact]
    public void Status_shows_the_validation_loss_and_accuracy_from_first_to_last_evaluated_round()
    {
        var job = Read(JobsApi.Describe(View([0.8, 0.4, double.NaN], [0.6, 0.9, double.NaN])));
        var text = Render(console => JobText.WriteJob(console, job));
        Assert.Contains("validation", text);
        Assert.Contains("loss 0.8 → 0.4, accuracy 60% → 90% (2/3 rounds evaluated)", text);

        var none = Read(JobsApi.Describe(View([double.NaN, double.NaN, double.NaN], [double.NaN, double.NaN, double.NaN])));
        Assert.Contains("not evaluated yet", Render(console => JobText.WriteJob(console, none)));
    }

    [Fact]
    public async Task The_live_view_shows_the_latest_validation_metrics()
    {
        var lines = new List<string>();
        var text = await RenderAsync(async console => await ProgressDisplay.RunAsync(console, onEvent =>
        {
            onEvent(new ServerSentEvent("progress", """{"state":"running","progress":{"shardsTotal":12,"shardsDone":8,"shardsVerified":4,"round":3,"rounds":3},"spentHu":1}"""));
            onEvent(new ServerSentEvent("validation", """{"round":2,"loss":0.4,"accuracy":0.9}"""));
            return Task.FromResult(0);
        }));
        Assert.Contains("validation (round 2) 0.4, 90%", text);
    }

    private static Job Read(JobResponse response) =>
        JsonSerializer.Deserialize<Job>(JsonSerializer.Serialize(response, JsonSerializerOptions.Web), JsonSerializerOptions.Web)!;

    private static string Render(Action<IAnsiConsole> write)
    {
        var writer = new StringWriter();
        write(Console(writer));
        return writer.ToString();
    }

    private static async Task<string> RenderAsync(Func<IAnsiConsole, Task> write)
    {
        var writer = new StringWriter();
        await write(Console(writer));
        return writer.ToString();
    }

    private static IAnsiConsole Console(TextWriter writer) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Interactive = InteractionSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Ansi = AnsiSupport.No,
    });
}
