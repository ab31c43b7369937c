namespace Huginn.Workloads;

/// <summary>
/// A shard cannot be worked, for a reason the worker can name (<see cref="ShardErrorCodes"/>): the worker gives the
/// lease back with this code and message (docs/PROTOCOL.md, "Error codes"). The message is for the job's owner: it
/// says what is wrong with their spec or data, not where in the worker it was noticed.
/// </summary>
public sealed class ShardFailureException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;

    public static ShardFailureException InvalidData(string message) => new(ShardErrorCodes.InvalidData, message);
}
