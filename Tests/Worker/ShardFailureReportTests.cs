using System.Runtime.InteropServices;
using Huginn.Worker.Agent;
using Huginn.Workloads;

namespace Huginn.Tests.Worker;

/// <summary>What a worker tells the pool when a shard fails on it: the code decides whether the pool may fail the job at once.</summary>
public sealed class ShardFailureReportTests
{
    public static TheoryData<Exception, string> Failures => new()
    {
        { ShardFailureException.InvalidData("Class index 9 is not one of the model's 9 classes."), ShardErrorCodes.InvalidData },
        { new ShardFailureException(ShardErrorCodes.UnsupportedModel, "no network for model type \"rnn\""), ShardErrorCodes.UnsupportedModel },
        { new ShardFailureException("made_up", "a code the list does not have"), ShardErrorCodes.Internal },
        { new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB"), ShardErrorCodes.OutOfMemory },
        { new OutOfMemoryException(), ShardErrorCodes.OutOfMemory },
        { new HttpRequestException("server error 503"), ShardErrorCodes.DataUnavailable },
        { new InvalidDataException("blob abc arrived corrupted"), ShardErrorCodes.DataUnavailable },
        { new NotSupportedException("no such thing"), ShardErrorCodes.UnsupportedModel },
        // Unforeseen: never a deterministic code, so it can only send the shard elsewhere.
        { new ArgumentException("Value cannot be null. (Parameter 'x')"), ShardErrorCodes.Internal },
        { new NullReferenceException(), ShardErrorCodes.Internal },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_failure_gets_the_code_that_says_what_happened(Exception exception, string code)
    {
        var report = ShardFailureReport.From(exception);

        Assert.Equal(code, report.Code);
        Assert.Equal(ShardFailureText.Sanitize(exception.Message), report.Text);
        Assert.Equal(new Huginn.Protocol.ReleaseMessage("lease-1", report.Text, code), report.ToRelease("lease-1"));
    }

    [Fact]
    public void Only_failures_the_worker_can_name_are_deterministic()
    {
        var deterministic = Failures.Select(row => ShardFailureReport.From((Exception)row[0]).Code).Where(ShardErrorCodes.IsDeterministic).Distinct();
        Assert.Equal([ShardErrorCodes.InvalidData], deterministic);
    }

    [Fact]
    public void A_diverged_training_shard_is_given_back_as_nonfinite_instead_of_sent_as_a_malformed_result()
    {
        Assert.Null(ShardFailureReport.Nonfinite(WorkloadKind.Train, new ShardOutput([1f, 2f], [], 0.5, 4)));
        Assert.Equal(ShardErrorCodes.Nonfinite, ShardFailureReport.Nonfinite(WorkloadKind.Train, new ShardOutput([1f, float.NaN], [], 0.5, 4))!.Code);
        Assert.Equal(ShardErrorCodes.Nonfinite, ShardFailureReport.Nonfinite(WorkloadKind.Train, new ShardOutput([1f, 2f], [], double.PositiveInfinity, 4))!.Code);
        // Inference has no loss (NaN by design): only its outputs count.
        Assert.Null(ShardFailureReport.Nonfinite(WorkloadKind.Infer, new ShardOutput([1f, 2f], [], double.NaN, 4)));
        Assert.Equal(ShardErrorCodes.Nonfinite, ShardFailureReport.Nonfinite(WorkloadKind.Infer, new ShardOutput([float.NegativeInfinity], [], double.NaN, 4))!.Code);
    }
}
