using System.Diagnostics.Metrics;
using System.Reflection;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Interfaces.Telemetry;
using Huginn.Workloads;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Huginn.Tests.Deploy;

/// <summary>
/// What the state gauges report between polls, on a clock the test moves: the last answer while fresh, through failed
/// polls; nothing once it is stale; 0 for a class that emptied. A hardware class no real pool has keeps other pools of
/// the test process out of the readings.
/// </summary>
public sealed class PoolStateGaugesCacheTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly string _class = $"gpu-test-{Guid.NewGuid():N}";
    private volatile bool _fail;
    private volatile int _devices = 3;

    [Fact]
    public async Task Gauges_keep_the_last_answer_until_stale_and_report_an_emptied_class_as_zero()
    {
        var time = new FakeTimeProvider();
        var gauges = new PoolStateGauges(FakeGrains.Cluster(Answer), Interval, NullLogger<PoolStateGauges>.Instance, time);
        await gauges.StartAsync(CancellationToken.None);
        try
        {
            await UntilAsync(3); // the first poll, at start

            _fail = true;
            time.Advance(Interval); // a failed poll: the answer is 10 s old, still fresh
            await Task.Delay(100);
            Assert.Equal(3, Read());

            time.Advance(Interval * PoolStateGauges.StaleAfterIntervals); // 40 s old: stale, so nothing
            await UntilAsync(null);

            _fail = false;
            time.Advance(Interval);
            await UntilAsync(3);

            _devices = 0; // the directory drops the empty partition
            time.Advance(Interval);
            await UntilAsync(0);
        }
        finally
        {
            await gauges.StopAsync(CancellationToken.None);
        }
    }

    private object? Answer(MethodInfo method)
    {
        if (_fail) throw new TimeoutException("the cluster does not answer");
        return method.Name switch
        {
            nameof(IPoolDirectoryGrain.GetSnapshotAsync) => Task.FromResult(new PoolSnapshot(1, _devices == 0 ? [] :
            [
                new PartitionSummary
                {
                    PartitionKey = $"{_class}/0", HardwareClass = _class, Kind = DeviceKind.Gpu, DevicesOnline = _devices,
                    MaxMemoryMb = 24_000, MaxGflops = 1, TotalGflops = 1, Runtimes = [], TotalSlots = _devices,
                },
            ])),
            nameof(IPoolLoadGrain.GetAsync) => Task.FromResult(new PoolLoad(0, 0, 0)),
            _ => throw new NotSupportedException(method.Name),
        };
    }

    private Task UntilAsync(int? expected) =>
        Pool.Eventually.UntilAsync(() => Task.FromResult(Read()), value => value == expected,
            $"devices online of {_class} reading {expected?.ToString() ?? "nothing"}", TimeSpan.FromSeconds(10));

    /// <summary>This test's class's sample of huginn.pool.devices.online, or null when there is none.</summary>
    private int? Read()
    {
        int? value = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PoolStateGauges.MeterName && instrument.Name == "huginn.pool.devices.online") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, measurement, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "class", Value: string c } && c == _class) value = measurement;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }
}

/// <summary>An Orleans client whose grains answer every call through one function; nothing else of it is used.</summary>
public class FakeGrains : DispatchProxy
{
    private Func<MethodInfo, object?> _answer = null!;

    public static IClusterClient Cluster(Func<MethodInfo, object?> answer) => Create<IClusterClient>(answer);

    private static T Create<T>(Func<MethodInfo, object?> answer) where T : class
    {
        var proxy = DispatchProxy.Create<T, FakeGrains>();
        ((FakeGrains)(object)proxy)._answer = answer;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method is { Name: "GetGrain", IsGenericMethod: true })
        {
            var create = typeof(FakeGrains).GetMethod(nameof(Create), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(method.GetGenericArguments()[0]);
            return create.Invoke(null, [_answer]);
        }
        return _answer(method!);
    }
}
