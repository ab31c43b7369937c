using Huginn.Grains.Interfaces.Jobs;

namespace Huginn.Grains.Jobs;

/// <summary>
/// A training job's round checkpoints, by id (about 150 bytes a round): a state of its own, written once per completed
/// round, so that the job's state, written on every batch, does not grow with the rounds (<c>JobStateSizeTests</c>).
/// </summary>
[GenerateSerializer, Alias("huginn.job-checkpoints-state")]
public sealed class JobCheckpointsState
{
    [Id(0)] public List<JobCheckpoint> Checkpoints { get; set; } = [];
}
