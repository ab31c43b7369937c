using Huginn.Cli.Http;
using Huginn.Workloads;
using Spectre.Console;

namespace Huginn.Cli.Output;

/// <summary>Estimates and jobs as people read them.</summary>
public static class JobText
{
    /// <summary>"train · mlp 8→[32]→1 · 3 rounds × 4 shards · 20 local steps of 32".</summary>
    public static string Describe(JobSpec spec)
    {
        var kind = spec.Kind.ToString().ToLowerInvariant();
        var model = spec.Model switch
        {
            null => null,
            { Type: ModelSpec.Mlp } m => $"mlp {m.InputSize}→[{string.Join(",", m.HiddenSizes ?? [])}]→{m.OutputSize}",
            { } m => m.Type,
        };
        var parts = new List<string> { kind };
        if (model is not null) parts.Add(model);
        parts.Add($"{spec.Rounds} {(spec.Rounds == 1 ? "round" : "rounds")} × {spec.ShardsPerRound} {(spec.ShardsPerRound == 1 ? "shard" : "shards")}");
        if (spec.Kind == WorkloadKind.Train) parts.Add($"{spec.LocalSteps} local steps of {spec.BatchSize}");
        return string.Join(" · ", parts);
    }

    public static void WriteEstimate(IAnsiConsole console, Estimate estimate, SpecFile? spec = null, decimal? maxHu = null)
    {
        var rows = new List<(string, string)>();
        if (spec is not null) rows.Add(("job", Describe(spec.Spec)));
        rows.Add(("price", $"{Formats.Hu(estimate.Hu)}  ({Formats.Eur(estimate.Eur)})"));
        rows.Add(("shards", estimate.Shards.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        rows.Add(("audit fraction", $"{Formats.Percent(estimate.AuditFraction)} of shards re-run on a second device"));
        if (estimate.Breakdown is { } b)
        {
            rows.Add(("work · audits · fee", $"{Formats.Hu(b.WorkHu)} · {Formats.Hu(b.AuditHu)} · {Formats.Hu(b.FeeHu)}"));
            rows.Add(("per shard", Formats.Hu(b.ShardPriceHu)));
        }
        rows.Add(("ETA", $"{Formats.Duration(estimate.EtaSeconds)} with the devices online now"));
        if (maxHu is { } max) rows.Add(("spending cap", $"{Formats.Hu(max)} (--max-hu)"));
        console.Write(Formats.Fields([.. rows]));
    }

    public static void WriteJob(IAnsiConsole console, Job job)
    {
        var p = job.Progress;
        var losses = job.Losses;
        var rows = new List<(string, string)>
        {
            ("job", $"{job.JobId} ({job.Kind})"),
            ("state", job.FailureReason is null ? job.State : $"{job.State}: {job.FailureReason}"),
            ("round", $"{p.Round}/{p.Rounds}"),
            ("shards", $"{p.ShardsDone}/{p.ShardsTotal} done, {p.ShardsVerified} verified by a second device"),
        };
        if (losses.Length > 0) rows.Add(("loss", LossText(losses)));
        if (job.Validates) rows.Add(("validation", ValidationText(job)));
        rows.Add(("devices caught", job.Caught.Length == 0 ? "none" : string.Join(", ", job.Caught)));
        rows.Add(("estimated", Formats.Hu(job.EstimatedHu)));
        rows.Add(("spent", job.ActualHu is { } actual ? $"{Formats.Hu(actual)} (final)" : $"{Formats.Hu(job.SpentHu)} so far"));
        rows.Add(("escrow", Formats.Hu(job.EscrowHu)));
        rows.Add(("refunded", Formats.Hu(job.RefundedHu)));
        rows.Add(("created", Formats.Time(job.CreatedAt)));
        if (job.FinishedAt is not null) rows.Add(("finished", Formats.Time(job.FinishedAt)));
        console.Write(Formats.Fields([.. rows]));
    }

    /// <summary>The summary after following a job to its end.</summary>
    public static void WriteOutcome(IAnsiConsole console, Job job)
    {
        var color = job.State == Job.Completed ? "green" : "red";
        var took = job.FinishedAt is { } finished ? $" in {Formats.Duration((finished - job.CreatedAt).TotalSeconds).TrimStart('~')}" : "";
        console.MarkupLine($"Job {Markup.Escape(job.JobId)} [{color}]{Markup.Escape(job.State)}[/]{Markup.Escape(took)}"
            + (job.FailureReason is null ? "" : $": {Markup.Escape(job.FailureReason)}"));
        var rows = new List<(string, string)>
        {
            ("estimated", Formats.Hu(job.EstimatedHu)),
            ("actual", Formats.Hu(job.ActualHu ?? job.SpentHu)),
            ("refunded", Formats.Hu(job.RefundedHu)),
            ("shards", $"{job.Progress.ShardsDone}/{job.Progress.ShardsTotal} done, {job.Progress.ShardsVerified} verified"),
        };
        if (job.Losses.Length > 0) rows.Add(("loss", LossText(job.Losses)));
        if (job.Validates) rows.Add(("validation", ValidationText(job)));
        rows.Add(("devices caught", job.Caught.Length == 0 ? "none" : string.Join(", ", job.Caught)));
        console.Write(Formats.Fields([.. rows]));
    }

    /// <summary>"loss 0.52 → 0.11, accuracy 61% → 97% (4/4 rounds evaluated)": first and last evaluated rounds.</summary>
    public static string ValidationText(Job job)
    {
        var evaluated = job.Validation;
        if (evaluated.Length == 0) return "not evaluated yet";
        var (first, last) = (evaluated[0], evaluated[^1]);
        var loss = evaluated.Length == 1 ? Formats.Number(first.Loss, "G5") : $"{Formats.Number(first.Loss, "G5")} → {Formats.Number(last.Loss, "G5")}";
        var accuracy = last.Accuracy is not { } lastAccuracy ? ""
            : evaluated.Length == 1 || first.Accuracy is not { } firstAccuracy ? $", accuracy {Percent(lastAccuracy)}"
            : $", accuracy {Percent(firstAccuracy)} → {Percent(lastAccuracy)}";
        return $"loss {loss}{accuracy} ({evaluated.Length}/{job.Progress.Rounds} rounds evaluated)";
    }

    public static string Percent(double share) => Formats.Number(share * 100, "0.#") + "%";

    public static string LossText(double[] losses) => losses.Length == 1
        ? Formats.Number(losses[0], "G5")
        : $"{Formats.Number(losses[0], "G5")} → {Formats.Number(losses[^1], "G5")} over {losses.Length} rounds";
}
