namespace Huginn.Grains;

/// <summary>
/// The pool's rules (deadlines, heartbeat timeouts, holding periods) are judged on a keyed
/// <see cref="TimeProvider"/>, not on Orleans' own clock: tests replace it with a fake clock to move
/// days in a moment, while Orleans' timers, streams and membership keep running on real time.
/// Grain timers only decide how often a rule is checked; the clock decides what the rule says.
/// </summary>
public static class PoolClock
{
    public const string Key = "huginn.pool-clock";
}
