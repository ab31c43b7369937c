using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Rules;

namespace Huginn.Tests.Rules;

public sealed class SlashingTests
{
    private static readonly PoolOptions Options = new() { BanAfterInvalidVerdicts = 3 };

    [Fact]
    public void A_verified_result_builds_trust_and_an_invalid_one_resets_it()
    {
        var trusted = new DeviceRecord { Verified = 9, VerifiedSinceInvalid = 9 };

        var verified = Slashing.Apply(trusted, Verdict.Verified);
        var caught = Slashing.Apply(trusted, Verdict.Invalid);

        Assert.Equal((10, 10), (verified.Verified, verified.VerifiedSinceInvalid));
        Assert.Equal((9, 1, 0), (caught.Verified, caught.Invalid, caught.VerifiedSinceInvalid));
        Assert.Equal(1.0, AuditPolicy.Rate(caught, Options));
        Assert.True(caught.Reliability < trusted.Reliability);
    }

    [Fact]
    public void Unaudited_and_disputed_results_are_counted_but_move_no_trust()
    {
        var record = new DeviceRecord { Verified = 4, VerifiedSinceInvalid = 4 };

        var unaudited = Slashing.Apply(record, Verdict.Unaudited);
        var disputed = Slashing.Apply(record, Verdict.Disputed);

        Assert.Equal(1, unaudited.Unaudited);
        Assert.Equal(1, disputed.Disputed);
        Assert.Equal(record.Reliability, unaudited.Reliability);
        Assert.Equal(record.Reliability, disputed.Reliability);
        Assert.Equal(AuditPolicy.Rate(record, Options), AuditPolicy.Rate(disputed, Options));
    }

    [Fact]
    public void Lost_leases_count_against_reliability()
    {
        var record = new DeviceRecord { Verified = 4 };

        Assert.Equal(3, Slashing.LeasesLost(record, 3).Expired);
        Assert.True(Slashing.LeasesLost(record, 3).Reliability < record.Reliability);
        Assert.Same(record, Slashing.LeasesLost(record, 0));
    }

    [Fact]
    public void Every_invalid_verdict_forfeits_pending_pay_under_its_own_transfer_id()
    {
        var first = Slashing.Consequences("dev", new DeviceRecord { Invalid = 1 }, Verdict.Invalid, banned: false, Options);
        var second = Slashing.Consequences("dev", new DeviceRecord { Invalid = 2 }, Verdict.Invalid, banned: false, Options);

        Assert.Equal("forfeit:dev:1", first.ForfeitTransferId);
        Assert.Equal("forfeit:dev:2", second.ForfeitTransferId);
        Assert.False(first.Ban);
        Assert.Equal(SlashingEffects.None, Slashing.Consequences("dev", new DeviceRecord { Invalid = 2 }, Verdict.Verified, banned: false, Options));
    }

    [Fact]
    public void The_third_invalid_verdict_bans_once()
    {
        Assert.True(Slashing.Consequences("dev", new DeviceRecord { Invalid = 3 }, Verdict.Invalid, banned: false, Options).Ban);
        Assert.False(Slashing.Consequences("dev", new DeviceRecord { Invalid = 4 }, Verdict.Invalid, banned: true, Options).Ban);
        Assert.NotEqual(Slashing.BanForfeitTransferId("dev"), Slashing.Consequences("dev", new DeviceRecord { Invalid = 3 }, Verdict.Invalid, false, Options).ForfeitTransferId);
    }
}
