using Huginn.Grains.Interfaces.Devices;
using Orleans.Streams;

namespace Huginn.Tests.Durable;

[Trait("Category", "Postgres")]
public sealed class StreamTests
{
    [Fact]
    public async Task A_command_published_on_a_device_stream_reaches_its_subscriber_through_PostgreSQL()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var silo = await DurableSilo.StartAsync(database, $"streams-{Guid.NewGuid():N}");
        var stream = silo.Client.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For("device:streamed"));
        var received = new TaskCompletionSource<DeviceCommand>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await stream.SubscribeAsync((command, _) =>
        {
            received.TrySetResult(command);
            return Task.CompletedTask;
        });

        await stream.OnNextAsync(new ConnectionReplaced("connection-1"));

        var arrived = await received.Task.WaitAsync(TimeSpan.FromSeconds(30))
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : throw new TimeoutException(
                "the published command did not reach the subscriber within 30 s through the ADO.NET stream queue"));
        Assert.Equal(new ConnectionReplaced("connection-1"), arrived);
        await subscription.UnsubscribeAsync();
        // The subscription was persisted in PostgreSQL. Orleans keeps a stream provider's subscriptions in the grain
        // storage of the same name when there is one: "huginn", the grain state (the group-commit storage by default).
        var types = await database.QueryAsync("SELECT DISTINCT grain_type FROM huginn_grain_state");
        Assert.True(types.Any(t => t.Contains("pubsub", StringComparison.OrdinalIgnoreCase)), $"grain types stored: {string.Join(", ", types)}");
    }
}
