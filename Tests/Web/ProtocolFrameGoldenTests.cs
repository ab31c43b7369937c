using System.Text.Json.Nodes;
using Huginn.Protocol;
using Huginn.Tests.Deploy;
using Huginn.Tests.Workloads;
using Huginn.Workloads;

namespace Huginn.Tests.Web;

/// <summary>
/// Frames made by Protocol/Frame.cs for the browser worker's codec (web/src/protocol/frame.ts): web/test/golden/frames.json
/// holds them as base64. The JS test decodes the server's frames and encodes the worker's byte for byte the same; this
/// test checks that C# still makes exactly those bytes (set <see cref="WriteVariable"/>=1 to rewrite the file).
/// </summary>
public sealed class ProtocolFrameGoldenTests
{
    public const string WriteVariable = "HUGINN_WRITE_FRAME_GOLDENS";

    private static string FilePath => Path.Combine(RepositoryPaths.Root, "web", "test", "golden", "frames.json");

    /// <summary>Every message type, with the awkward values: a uint64 seed past 2^53, a NaN loss, omitted nulls, a payload.</summary>
    private static IEnumerable<(string Name, byte[] Frame)> Frames()
    {
        var spec = ExampleSpecs.Train(ExampleSpecs.Mlp()) with { Seed = 12_345_678_901_234_567_890UL };
        var shard = new ShardPlan(2, 3, 384, 128, 18_000_000_000_000_000_001UL, 1_966_080, 5, 32);
        var deadline = new DateTimeOffset(2026, 11, 27, 20, 45, 0, TimeSpan.Zero);
        var payload = new byte[3 * 4 + 3];
        Tensors.CopyTo([1.5f, -2f, 3.25f], payload);
        payload[12] = 1; payload[13] = 2; payload[14] = 255;

        yield return ("welcome", Frame.Encode(new WelcomeMessage(1, "dev_0123abcd", 10, 1_048_576)));
        yield return ("heartbeatAck", Frame.Encode(new HeartbeatAckMessage("online")));
        yield return ("assign", Frame.Encode(new AssignMessage("lease_1", "job_9", spec, shard, "ab12cd", deadline, 1234)));
        yield return ("assignNoWeights", Frame.Encode(new AssignMessage("lease_2", "job_9", ExampleSpecs.Prep(), shard with { Round = 0 }, null, deadline, 5)));
        yield return ("receipt", Frame.Encode(new ReceiptMessage("lease_1", "accepted")));
        yield return ("revoke", Frame.Encode(new RevokeMessage("lease_1", "Expired")));
        yield return ("error", Frame.Encode(new ErrorMessage("not_leased", "no open lease with this id on this device", "lease_7")));

        yield return ("hello", Frame.Encode(new HelloMessage(1,
            new DeviceCapabilitiesDto("browser", null, null, 12.5, 8, 1024, ["js", "tfjs-wasm"], 1), "huginn-browser/0.1 (tfjs-wasm)", "hd_token")));
        yield return ("heartbeat", Frame.Encode(new HeartbeatMessage(["ab12cd", "ef34"])));
        yield return ("heartbeatEmpty", Frame.Encode(new HeartbeatMessage([])));
        yield return ("ack", Frame.Encode(new AckMessage("lease_1")));
        yield return ("resultTrain", Frame.Encode(new ResultMessage("lease_1", 0.6931471805599453, 160, 3, 3), payload));
        yield return ("resultInfer", Frame.Encode(new ResultMessage("lease_2", double.NaN, 128, 3, 0), payload.AsSpan(0, 12)));
        yield return ("resultBlob", Frame.Encode(new ResultMessage("lease_3", 0.25, 160, 3, 3, "ff00")));
        yield return ("release", Frame.Encode(new ReleaseMessage("lease_1", "the tab was closed")));
    }

    [Fact]
    public void Frame_goldens_are_what_CSharp_encodes_now()
    {
        var fresh = new JsonObject();
        foreach (var (name, frame) in Frames()) fresh[name] = Convert.ToBase64String(frame);
        var text = fresh.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (Environment.GetEnvironmentVariable(WriteVariable) == "1") File.WriteAllText(FilePath, text);

        Assert.True(File.Exists(FilePath), $"{FilePath} is missing; run this test with {WriteVariable}=1 and commit it.");
        var committed = JsonNode.Parse(File.ReadAllText(FilePath))!.AsObject();
        foreach (var (name, value) in fresh)
        {
            Assert.True(committed.ContainsKey(name), $"{name} is not in {FilePath}");
            Assert.Equal(value!.GetValue<string>(), committed[name]!.GetValue<string>());
        }
    }

    [Fact]
    public void Every_golden_frame_decodes_back_to_its_message()
    {
        foreach (var (name, frame) in Frames())
            Assert.True(Frame.TryDecode(frame, out var message, out _, out var error) && message is not null, $"{name}: {error}");
    }
}
