using Huginn.Protocol;
using Huginn.Workloads;

namespace Huginn.Worker.Agent;

/// <summary>
/// Why a shard failed on this worker, as the release tells the pool: a code from <see cref="ShardErrorCodes"/> and the
/// message made fit for the job's owner (<see cref="ShardFailureText"/>). The code is what the pool acts on (two owners
/// reporting the same deterministic code fail the job at once), so only failures the worker can name get one that is
/// deterministic; anything unforeseen is "internal", which only sends the shard elsewhere.
/// </summary>
public sealed record ShardFailureReport(string Code, string? Text)
{
    public static readonly ShardFailureReport ShuttingDown = new(ShardErrorCodes.ShuttingDown, "the worker is stopping");

    public static ShardFailureReport From(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var code = exception switch
        {
            ShardFailureException named => ShardErrorCodes.Normalize(named.Code),
            OutOfMemoryException => ShardErrorCodes.OutOfMemory,
            // libtorch reports an exhausted device as an ExternalException whose message says so ("CUDA out of memory").
            _ when exception.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) => ShardErrorCodes.OutOfMemory,
            HttpRequestException or InvalidDataException or IOException => ShardErrorCodes.DataUnavailable,
            NotSupportedException => ShardErrorCodes.UnsupportedModel,
            _ => ShardErrorCodes.Internal,
        };
        return new ShardFailureReport(code, ShardFailureText.Sanitize(exception.Message));
    }

    /// <summary>
    /// An honest worker does not send NaN or infinite values (the edge refuses them as a malformed result, which counts
    /// as cheating): a diverged shard is given back as <see cref="ShardErrorCodes.Nonfinite"/> instead. Null when finite.
    /// </summary>
    public static ShardFailureReport? Nonfinite(WorkloadKind kind, ShardOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (kind == WorkloadKind.Train && !double.IsFinite(output.Loss))
            return new ShardFailureReport(ShardErrorCodes.Nonfinite, $"The training loss became {output.Loss}: lower the learning rate or check the data for huge values.");
        var values = output.Values.AsSpan();
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return new ShardFailureReport(ShardErrorCodes.Nonfinite, kind == WorkloadKind.Train
                    ? $"A weight became {values[i]}: training diverged; lower the learning rate or check the data for huge values."
                    : $"An output became {values[i]}: the weights or the data hold values too large for the model.");
        }
        return null;
    }

    public ReleaseMessage ToRelease(string leaseId) => new(leaseId, Text, Code);
}
