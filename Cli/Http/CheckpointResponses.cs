namespace Huginn.Cli.Http;

/// <summary>A training job's checkpoint as GET /v1/jobs/{id}/checkpoints lists it.</summary>
public sealed record JobCheckpoint(int Round, long Bytes, DateTimeOffset CreatedAt, double? Loss);

public sealed record JobCheckpoints(string JobId, JobCheckpoint[] Checkpoints);
