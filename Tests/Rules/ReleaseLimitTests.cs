using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Rules;

namespace Huginn.Tests.Rules;

public sealed class ReleaseLimitTests
{
    private static readonly PoolOptions Options = new() { MaxReleasesPerWindow = 3, ReleaseWindow = TimeSpan.FromMinutes(10), ReleaseCooldown = TimeSpan.FromMinutes(15) };
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Releases_within_the_limit_cost_reputation_but_no_cool_down()
    {
        var recent = new Queue<DateTimeOffset>();
        for (var i = 0; i < 3; i++) Assert.Null(ReleaseLimit.Record(recent, Now.AddMinutes(i), Options));

        var record = Slashing.LeaseReleased(Slashing.LeaseReleased(new DeviceRecord()));
        Assert.Equal(2, record.Released);
        Assert.True(record.Reliability < new DeviceRecord().Reliability / 2.5);
    }

    [Fact]
    public void One_release_over_the_limit_within_the_window_parks_the_device_and_starts_it_afresh()
    {
        var recent = new Queue<DateTimeOffset>();
        for (var i = 0; i < 3; i++) ReleaseLimit.Record(recent, Now.AddMinutes(i), Options);

        Assert.Equal(Now.AddMinutes(3) + Options.ReleaseCooldown, ReleaseLimit.Record(recent, Now.AddMinutes(3), Options));
        Assert.Empty(recent);
    }

    [Fact]
    public void Releases_older_than_the_window_no_longer_count()
    {
        var recent = new Queue<DateTimeOffset>();
        for (var i = 0; i < 3; i++) ReleaseLimit.Record(recent, Now.AddMinutes(i), Options);

        Assert.Null(ReleaseLimit.Record(recent, Now.AddMinutes(11), Options));
        Assert.Equal(3, recent.Count);
    }
}
