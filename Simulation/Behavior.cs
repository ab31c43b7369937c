namespace Huginn.Simulation;

/// <summary>What a <see cref="SimulatedDevice"/> does with the shards it is given.</summary>
public enum Behavior
{
    /// <summary>Computes the real result, with float noise of about 1e-6 like a different honest device.</summary>
    Honest,
    /// <summary>Returns a wrong result every time, each such device wrong in its own way.</summary>
    AlwaysWrong,
    /// <summary>Returns zeros without computing (a lazy device hoping nobody checks).</summary>
    Lazy,
    /// <summary>Takes leases and never answers, but keeps heartbeating.</summary>
    Stalled,
    /// <summary>Sends every honest result twice.</summary>
    DoubleSubmit,
    /// <summary>Gives every lease back at once, like a worker whose runtime fails on the shard.</summary>
    GiveBack,
    /// <summary>Honest for its first <see cref="SimulatedDevice.HonestShards"/> shards, then wrong every time.</summary>
    Sleeper,
    /// <summary>Wrong with probability <see cref="SimulatedDevice.CheatProbability"/> (seeded by <see cref="SimulatedDevice.Seed"/>).</summary>
    Sometimes,
    /// <summary>Computes honestly but reports a training loss of 1e30, to write the client's metrics.</summary>
    FakeLoss,
    /// <summary>Computes honestly but reports −1 samples.</summary>
    FakeSamples,
    /// <summary>
    /// Gives every lease back with the deterministic code "invalid_data" (ShardErrorCodes), as an honest worker does on a
    /// label outside the model's classes, or as a liar does to fail someone's job.
    /// </summary>
    ClaimsInvalidData,
    /// <summary>
    /// Honest on training shards; on an evaluation shard it reports a perfect model (loss 0, accuracy 1) without
    /// measuring: a device trying to write the client's validation metrics.
    /// </summary>
    FlattersEvaluations,
    /// <summary>Honest on training shards; gives every evaluation shard back with "invalid_data", as if its rows could not be read.</summary>
    FailsEvaluations,
}
