using System.Text.Json.Nodes;
using Huginn.Workloads;

namespace Huginn.Tests.Worker;

/// <summary>
/// The browser executor's golden vectors (web/test/golden/, checked by the JS tests) must be what C# produces now:
/// neither side can change a convention alone. HUGINN_WRITE_BROWSER_GOLDENS=1 rewrites them instead (then commit).
/// </summary>
[Collection(TorchCollection.Name), Trait("Category", "Torch")]
public sealed class BrowserGoldenTests(TorchFixture fixture)
{
    /// <summary>
    /// TorchSharp's float32 results may move in the last bits with libtorch's thread count or build; far below any
    /// verification tolerance (1e-4 infer, 1e-3 train), far above what a changed convention moves them by.
    /// </summary>
    private const double TorchDrift = 1e-5;

    [Fact]
    public void Browser_goldens_are_what_CSharp_produces_now()
    {
        var files = BrowserGoldens.Build(fixture.Executor);
        if (Environment.GetEnvironmentVariable(BrowserGoldens.WriteVariable) == "1")
        {
            Directory.CreateDirectory(BrowserGoldens.Folder);
            foreach (var (name, content) in files) File.WriteAllText(Path.Combine(BrowserGoldens.Folder, name), BrowserGoldens.Serialize(content));
        }

        foreach (var (name, fresh) in files)
        {
            var path = Path.Combine(BrowserGoldens.Folder, name);
            Assert.True(File.Exists(path), $"{path} is missing; run this test with {BrowserGoldens.WriteVariable}=1 and commit the files.");
            var committed = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            AssertSame(name, committed, fresh);
        }
    }

    /// <summary>Everything bit for bit, except the TorchSharp results, which must be within <see cref="TorchDrift"/>.</summary>
    private static void AssertSame(string where, JsonNode? committed, JsonNode? fresh)
    {
        if (committed is JsonObject a && fresh is JsonObject b)
        {
            Assert.Equal(b.Select(p => p.Key).Order(StringComparer.Ordinal), a.Select(p => p.Key).Order(StringComparer.Ordinal));
            foreach (var (key, value) in b)
            {
                if (key == BrowserGoldens.TorchSection) AssertClose($"{where}.{key}", a[key]!.AsObject(), value!.AsObject());
                else AssertSame($"{where}.{key}", a[key], value);
            }
            return;
        }
        if (committed is JsonArray x && fresh is JsonArray y)
        {
            Assert.True(x.Count == y.Count, $"{where}: {x.Count} entries committed, {y.Count} produced");
            for (var i = 0; i < x.Count; i++) AssertSame($"{where}[{i}]", x[i], y[i]);
            return;
        }
        Assert.True(JsonNode.DeepEquals(committed, fresh), $"{where}: committed {committed?.ToJsonString()} but C# now produces {fresh?.ToJsonString()}");
    }

    private static void AssertClose(string where, JsonObject committed, JsonObject fresh)
    {
        var a = BrowserGoldens.ReadF32(committed["values"]!.GetValue<string>());
        var b = BrowserGoldens.ReadF32(fresh["values"]!.GetValue<string>());
        var distance = TensorComparison.RelativeL2(a, b);
        Assert.True(distance <= TorchDrift, $"{where}: TorchSharp's values moved by relative L2 {distance}");
        Assert.True(JsonNode.DeepEquals(committed["samples"], fresh["samples"]), $"{where}: samples differ");
        Assert.True(JsonNode.DeepEquals(committed["bytes"], fresh["bytes"]), $"{where}: bytes differ");
        var lossA = committed["loss"] is { } la ? BitConverter.Int64BitsToDouble(Convert.ToInt64(la.GetValue<string>(), 16)) : double.NaN;
        var lossB = fresh["loss"] is { } lb ? BitConverter.Int64BitsToDouble(Convert.ToInt64(lb.GetValue<string>(), 16)) : double.NaN;
        Assert.True(double.IsNaN(lossA) ? double.IsNaN(lossB) : Math.Abs(lossA - lossB) <= TorchDrift * Math.Abs(lossA), $"{where}: loss {lossA} committed, {lossB} produced");
    }
}
