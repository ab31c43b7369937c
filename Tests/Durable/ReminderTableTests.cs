using Microsoft.Extensions.DependencyInjection;

namespace Huginn.Tests.Durable;

[Trait("Category", "Postgres")]
public sealed class ReminderTableTests
{
    [Fact]
    public async Task A_reminder_row_is_kept_versioned_and_removed_only_with_its_current_version()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var silo = await DurableSilo.StartAsync(database, $"reminders-{Guid.NewGuid():N}");
        var table = silo.Services.GetRequiredService<IReminderTable>();
        var grain = GrainId.Create("job", "job-reminded");
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        var first = await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "sweep", StartAt = start, Period = TimeSpan.FromMinutes(1) })
            ?? throw new InvalidOperationException("the first upsert returned no version");
        var second = await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "sweep", StartAt = start, Period = TimeSpan.FromMinutes(2) })
            ?? throw new InvalidOperationException("the second upsert returned no version");
        var row = await table.ReadRow(grain, "sweep") ?? throw new InvalidOperationException("the reminder row was not read back");
        var all = await table.ReadRows(0, 0);

        Assert.NotEqual(first, second);
        Assert.Equal(second, row.ETag);
        Assert.Equal(start, row.StartAt.ToUniversalTime());
        Assert.Equal(TimeSpan.FromMinutes(2), row.Period);
        Assert.Contains(all.Reminders, r => r.GrainId == grain && r.ReminderName == "sweep");
        Assert.False(await table.RemoveRow(grain, "sweep", first));
        Assert.True(await table.RemoveRow(grain, "sweep", second));
        Assert.Null(await table.ReadRow(grain, "sweep"));
    }
}
