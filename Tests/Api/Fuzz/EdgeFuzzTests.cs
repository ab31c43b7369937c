using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Huginn.Api.Apis;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Protocol;
using Huginn.Tests.Api.Hostile;
using Huginn.Tests.Pool;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Huginn.Tests.Api.Fuzz;

/// <summary>
/// Issue 12: a bounded fuzz of the edge. A seeded generator mutates valid HTTP bodies and worker frames (a few thousand
/// cases, a few seconds); whatever it sends, the Api answers without a 5xx, logs no error or unhandled exception,
/// closes no socket with 1011 or a reset, and the ledger stays balanced. A failure prints the seed and the case.
/// </summary>
[Trait("Category", "Edge")]
public sealed class EdgeFuzzTests(ITestOutputHelper output)
{
    /// <summary>How the cases were answered, so that a run shows what it covered (statuses, close codes).</summary>
    private readonly ConcurrentDictionary<string, int> _outcomes = new();
    private const int Seed = 20261127;
    private const int HttpCases = 2000;
    private const int FrameCases = 1500;

    private static readonly string[] Roles = ["client", "contributor", "operator", "", "CLIENT"];

    [Fact]
    public async Task Fuzzed_http_bodies_and_worker_frames_get_no_5xx_no_error_log_and_leave_the_ledger_balanced()
    {
        var logs = new CapturedLogs();
        await using var pool = await LocalPool.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // The fuzzer is one address and a handful of keys: the throttles would answer most cases 429 and test nothing.
            ["Huginn:Api:RequestsPerSecond"] = "100000",
            ["Huginn:Api:RequestBurst"] = "100000",
            ["Huginn:Api:FailedAuthBurst"] = "100000",
            ["Huginn:Api:MaxDevicesPerOwner"] = "100000",
            ["Huginn:Api:MalformedFramesBeforeClose"] = "50",
            ["Huginn:Api:MaxFrameBytes"] = (256 * 1024).ToString(),
        }).Build(), configureLogging: logging => logging.AddProvider(logs));
        var random = new Random(Seed);
        using var anonymous = new PoolClient(pool.ApiUrl);
        var client = (await anonymous.CreateAccountAsync("fuzz-client", "client")).ApiKey;
        var contributor = (await anonymous.CreateAccountAsync("fuzz-contributor", "contributor")).ApiKey;
        await anonymous.As(client).BuyAsync(100);

        var serverErrors = await FuzzHttpAsync(pool, random, client, contributor);
        var socketFailures = await FuzzFramesAsync(pool, random, contributor);

        output.WriteLine(string.Join(", ", _outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}")));
        Assert.True(serverErrors.IsEmpty, $"seed {Seed}: 5xx answers:\n{string.Join("\n", serverErrors.Take(5))}");
        Assert.True(socketFailures.IsEmpty, $"seed {Seed}: sockets ended badly:\n{string.Join("\n", socketFailures.Take(5))}");
        Assert.Empty(logs.Failures);
        var audit = await pool.Grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
        Assert.True(audit.Balanced, $"ledger out of balance: minted {audit.MintedMicroHu}, held {audit.HeldMicroHu}");
    }

    private async Task<ConcurrentQueue<string>> FuzzHttpAsync(LocalPool pool, Random random, string client, string contributor)
    {
        var templates = new (string Path, Func<JsonNode> Body, string? Key)[]
        {
            ("v1/accounts", () => new JsonObject { ["name"] = "fuzz", ["role"] = "client" }, null),
            ("v1/accounts/me/credits", () => new JsonObject { ["hu"] = 1 }, client),
            ("v1/accounts/acct_nobody/credits", () => new JsonObject { ["hu"] = 1 }, client),
            ("v1/estimates", Spec, client),
            ("v1/jobs", () => new JsonObject { ["spec"] = Spec(), ["maxHu"] = 1 }, client),
            ("v1/devices", () => JsonSerializer.SerializeToNode(new RegisterDeviceRequest("fuzz", LimitedPoolFixture.Cpu), Frame.Json)!, contributor),
        };
        // The cases are drawn up front so that the run is the same whatever the order the requests finish in.
        var cases = Enumerable.Range(0, HttpCases).Select(i =>
        {
            var (path, body, key) = templates[random.Next(templates.Length)];
            var text = Mutate(body(), random);
            var useKey = random.Next(10) switch { 0 => null, 1 => $"hk_{random.Next()}", 2 => contributor, _ => key };
            var idempotency = path == "v1/jobs" && random.Next(3) == 0 ? new string(RandomString(random, random.Next(0, 300)).Where(char.IsAscii).ToArray()) : null;
            return (i, path, text, useKey, idempotency);
        }).ToArray();

        var failures = new ConcurrentQueue<string>();
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (c, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, c.path) { Content = new StringContent(c.text, Encoding.UTF8, "application/json") };
            if (c.useKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", c.useKey);
            if (c.idempotency is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", c.idempotency);
            using var response = await http.SendAsync(request, cancellationToken);
            _outcomes.AddOrUpdate($"http {(int)response.StatusCode}", 1, (_, n) => n + 1);
            if ((int)response.StatusCode >= 500)
                failures.Enqueue($"case {c.i}: POST {c.path} {c.text[..Math.Min(300, c.text.Length)]} → {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        });
        return failures;
    }

    private static JsonNode Spec() => JsonSerializer.SerializeToNode(Specs.TeacherTraining(1, 2), Frame.Json)!;

    /// <summary>A few random edits of a valid body: fields dropped, added, retyped, out of range; or the text broken.</summary>
    private static string Mutate(JsonNode body, Random random)
    {
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            var target = PickObject(body, random);
            var keys = target.Select(p => p.Key).ToArray();
            switch (random.Next(4))
            {
                case 0 when keys.Length > 0: target.Remove(keys[random.Next(keys.Length)]); break;
                case 1: target[RandomString(random, random.Next(1, 12))] = RandomValue(random, 0); break;
                default:
                    if (keys.Length > 0) target[keys[random.Next(keys.Length)]] = RandomValue(random, 0);
                    break;
            }
        }
        var text = body.ToJsonString();
        return random.Next(12) switch
        {
            0 => text[..random.Next(text.Length)],
            1 => new string('[', random.Next(1, 2000)),
            2 => Encoding.Latin1.GetString(RandomBytes(random, random.Next(0, 200))),
            _ => text,
        };
    }

    private static JsonObject PickObject(JsonNode node, Random random)
    {
        var current = (JsonObject)node;
        while (random.Next(2) == 0)
        {
            var children = current.Select(p => p.Value).OfType<JsonObject>().ToArray();
            if (children.Length == 0) break;
            current = children[random.Next(children.Length)];
        }
        return current;
    }

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 3 ? 9 : 11) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.Next(int.MinValue, int.MaxValue)),
        3 => JsonValue.Create(new[] { 1e13, 1e20, -1, 0, 1e308, -1e308, 5e-324, 0.0000001 }[random.Next(8)]),
        4 => JsonValue.Create(decimal.MaxValue),
        5 => JsonValue.Create(ulong.MaxValue),
        6 => JsonValue.Create(RandomString(random, random.Next(0, 40))),
        7 => JsonValue.Create(new[] { "NaN", "Infinity", "-Infinity", "train", "infer", "prep", "gpu", "cpu,gpu", "" }[random.Next(9)]),
        8 => JsonValue.Create(new string('x', random.Next(1000, 20000))),
        9 => new JsonArray(Enumerable.Range(0, random.Next(0, 5)).Select(_ => RandomValue(random, depth + 1)).ToArray()),
        _ => new JsonObject { [RandomString(random, 5)] = RandomValue(random, depth + 1) },
    };

    private static string RandomString(Random random, int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/ é💥\"\\";
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++) builder.Append(alphabet[random.Next(alphabet.Length)]);
        return builder.ToString();
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private async Task<ConcurrentQueue<string>> FuzzFramesAsync(LocalPool pool, Random random, string contributor)
    {
        using var owner = new PoolClient(pool.ApiUrl, contributor);
        var tokens = new List<string>();
        for (var i = 0; i < 3; i++) tokens.Add((await owner.RegisterDeviceAsync($"fuzz-{i}", LimitedPoolFixture.Cpu)).DeviceToken);
        var cases = Enumerable.Range(0, FrameCases).Select(_ => RandomFrame(random)).ToArray();
        var failures = new ConcurrentQueue<string>();
        var uri = new UriBuilder(new Uri(pool.ApiUrl, "v1/workers/connect")) { Scheme = "ws" }.Uri;
        await Parallel.ForEachAsync(Enumerable.Range(0, tokens.Count), async (s, _) =>
        {
            ClientWebSocket? socket = null;
            FrameSocket? frames = null;
            for (var c = s; c < cases.Length; c += tokens.Count)
            {
                if (socket is null || socket.State != WebSocketState.Open)
                {
                    socket?.Dispose();
                    socket = new ClientWebSocket();
                    socket.Options.SetRequestHeader("Authorization", $"Bearer {tokens[s]}");
                    await socket.ConnectAsync(uri, CancellationToken.None);
                    frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);
                    await frames.SendAsync(new HelloMessage(Frame.Version, null, "fuzz"), CancellationToken.None);
                    if (await AnswerAsync(frames, socket, $"socket {s} hello before case {c}", failures) is not WelcomeMessage) continue;
                }
                // Each case is followed by a heartbeat and waits for its ack: every case is handled before the next
                // is sent, whatever it did to the socket.
                var (bytes, type) = cases[c];
                try
                {
                    await socket.SendAsync(bytes, type, true, CancellationToken.None);
                    await frames!.SendAsync(new HeartbeatMessage(null), CancellationToken.None);
                }
                catch (WebSocketException)
                {
                    // The server closed already (a frame over the limit, too many refused frames): read how, below.
                }
                while (await AnswerAsync(frames!, socket, $"socket {s} case {c}", failures) is { } answer and not HeartbeatAckMessage)
                    _outcomes.AddOrUpdate($"answer {answer.GetType().Name}", 1, (_, n) => n + 1);
            }
            socket?.Dispose();
        });
        return failures;
    }

    /// <summary>The next message; null once the socket closed (a 1011 close, a reset or silence counted as failures).</summary>
    private async Task<ProtocolMessage?> AnswerAsync(FrameSocket frames, ClientWebSocket socket, string what, ConcurrentQueue<string> failures)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var frame = await frames.ReceiveAsync(timeout.Token);
            if (frame is null)
            {
                _outcomes.AddOrUpdate($"socket closed {(int?)socket.CloseStatus}", 1, (_, n) => n + 1);
                if (socket.CloseStatus == WebSocketCloseStatus.InternalServerError) failures.Enqueue($"{what}: closed with 1011 {socket.CloseStatusDescription}");
                return null;
            }
            if (!Frame.TryDecode(frame, out var message, out _, out var error)) failures.Enqueue($"{what}: the server sent a frame it cannot decode itself: {error}");
            return message;
        }
        catch (WebSocketException ex)
        {
            failures.Enqueue($"{what}: reset ({ex.Message})");
        }
        catch (OperationCanceledException)
        {
            failures.Enqueue($"{what}: no answer within 15 s");
        }
        socket.Abort();
        return null;
    }

    /// <summary>A frame a worker could send: well-formed or not, of any type, with fields of any value.</summary>
    private static (byte[] Bytes, WebSocketMessageType Type) RandomFrame(Random random)
    {
        string[] types = ["hello", "welcome", "heartbeat", "heartbeatAck", "assign", "ack", "result", "receipt", "release", "revoke", "error", "nope", ""];
        var header = new JsonObject { ["type"] = types[random.Next(types.Length)] };
        string[] fields = ["leaseId", "version", "capabilities", "cachedBlobIds", "loss", "samples", "valueCount", "byteCount", "resultBlobId", "token", "jobId"];
        for (var f = random.Next(0, 5); f > 0; f--) header[fields[random.Next(fields.Length)]] = RandomValue(random, 0);
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var payload = RandomBytes(random, random.Next(20) == 0 ? random.Next(0, 300 * 1024) : random.Next(0, 64));
        var declared = random.Next(8) switch { 0 => -1, 1 => int.MaxValue, 2 => json.Length + 10, 3 => 0, _ => json.Length };
        var frame = new byte[4 + json.Length + payload.Length];
        BitConverter.TryWriteBytes(frame, declared);
        json.CopyTo(frame, 4);
        payload.CopyTo(frame, 4 + json.Length);
        return random.Next(15) switch
        {
            0 => (RandomBytes(random, random.Next(0, 16)), WebSocketMessageType.Binary),
            1 => (json, WebSocketMessageType.Text),
            _ => (frame, WebSocketMessageType.Binary),
        };
    }
}
