using Huginn.Grains.Rules;
using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;

namespace Huginn.Tests.Rules;

public sealed class AuditPolicyTests
{
    private static readonly PoolOptions Options = new() { ProbationAudits = 3, AuditFloor = 0.05 };

    [Fact]
    public void New_device_is_audited_on_every_shard()
    {
        Assert.Equal(1.0, AuditPolicy.Rate(new DeviceRecord(), Options));
        Assert.Equal(1.0, AuditPolicy.Rate(new DeviceRecord { Verified = 2, VerifiedSinceInvalid = 2 }, Options));
    }

    [Fact]
    public void Trust_lowers_the_audit_rate_down_to_the_floor()
    {
        Assert.Equal(0.5, AuditPolicy.Rate(new DeviceRecord { Verified = 6, VerifiedSinceInvalid = 6 }, Options));
        Assert.Equal(0.05, AuditPolicy.Rate(new DeviceRecord { Verified = 60, VerifiedSinceInvalid = 60 }, Options));
        Assert.Equal(0.05, AuditPolicy.Rate(new DeviceRecord { Verified = 100_000, VerifiedSinceInvalid = 100_000 }, Options));
    }

    [Fact]
    public void An_invalid_verdict_resets_trust()
    {
        var caught = new DeviceRecord { Verified = 60, Invalid = 1, VerifiedSinceInvalid = 0 };

        Assert.Equal(1.0, AuditPolicy.Rate(caught, Options));
        Assert.Equal(0.5, AuditPolicy.Rate(caught with { VerifiedSinceInvalid = 6 }, Options));
    }

    [Fact]
    public void Audit_draw_is_fixed_by_the_shard_and_the_salt()
    {
        var draw = AuditPolicy.Draw("salt", "job/r0/s1/a0");

        Assert.Equal(draw, AuditPolicy.Draw("salt", "job/r0/s1/a0"));
        Assert.NotEqual(draw, AuditPolicy.Draw("other-salt", "job/r0/s1/a0"));
        Assert.InRange(draw, 0.0, 1.0);
    }

    [Fact]
    public void Audit_draws_are_uniform_enough_to_hit_the_rate()
    {
        var audited = Enumerable.Range(0, 10_000).Count(i => AuditPolicy.Draw("salt", $"job/r0/s{i}/a0") < 0.05);

        Assert.InRange(audited, 400, 600);
    }
}
