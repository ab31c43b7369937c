using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Huginn.Tests.Web;

/// <summary>
/// A real headless Chromium (Debian's <c>chromium</c>, which scripts/setup.sh installs) driven over the DevTools
/// protocol with a plain WebSocket: no driver package, no browser download. Each page opens in a browser context of
/// its own (its own storage, as another person's browser would have).
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string DefaultPath = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private Task _reader = Task.CompletedTask;
    private int _nextId;

    /// <summary>Console lines and uncaught exceptions of every page, for a failing test's message.</summary>
    public ConcurrentQueue<string> Console { get; } = new();

    private HeadlessChromium(Process process, string profile) => (_process, _profile) = (process, profile);

    public static string? ExecutablePath =>
        Environment.GetEnvironmentVariable("HUGINN_CHROMIUM") is { Length: > 0 } configured ? configured
        : File.Exists(DefaultPath) ? DefaultPath : null;

    public static async Task<HeadlessChromium> StartAsync()
    {
        var path = ExecutablePath ?? throw new InvalidOperationException($"no Chromium at {DefaultPath}: run scripts/setup.sh (apt-get install chromium)");
        var profile = Directory.CreateTempSubdirectory("huginn-chromium-").FullName;
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless=new", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", $"--user-data-dir={profile}",
            // Root in CI has no user namespace for the sandbox; the pages are our own.
            "--no-sandbox", "--no-proxy-server", "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            // Several pages share two cores here: none may be throttled for being in the background.
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
            "--window-size=1100,900", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        var chromium = new HeadlessChromium(process, profile);
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("DevTools listening on ", StringComparison.Ordinal)) endpoint.TrySetResult(line["DevTools listening on ".Length..].Trim());
        };
        process.BeginErrorReadLine();
        var url = await endpoint.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await chromium._socket.ConnectAsync(new Uri(url), CancellationToken.None);
        chromium._reader = Task.Run(chromium.ReadAsync);
        return chromium;
    }

    public async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null, string? sessionId = null, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (sessionId is not null) message["sessionId"] = sessionId;
        var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
        var reply = await answer.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        if (reply["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        return reply["result"]?.AsObject() ?? new JsonObject();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 20];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var received = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close) return;
                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage) continue;
                var node = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                if (node["id"] is { } id && _pending.TryRemove(id.GetValue<int>(), out var waiting)) waiting.TrySetResult(node);
                else if (node["method"]?.GetValue<string>() is "Runtime.consoleAPICalled" or "Runtime.exceptionThrown" or "Log.entryAdded")
                    Console.Enqueue(node["params"]!.ToJsonString()[..Math.Min(600, node["params"]!.ToJsonString().Length)]);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    /// <summary>A new tab in a browser context of its own, navigated to <paramref name="url"/>.</summary>
    public async Task<BrowserPage> OpenAsync(string url)
    {
        var context = (await SendAsync("Target.createBrowserContext"))["browserContextId"]!.GetValue<string>();
        var target = (await SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank", ["browserContextId"] = context }))["targetId"]!.GetValue<string>();
        var session = (await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target, ["flatten"] = true }))["sessionId"]!.GetValue<string>();
        await SendAsync("Runtime.enable", sessionId: session);
        await SendAsync("Log.enable", sessionId: session);
        await SendAsync("Page.enable", sessionId: session);
        // Headless tabs count as visible and focused, as the tab a contributor is looking at.
        await SendAsync("Emulation.setFocusEmulationEnabled", new JsonObject { ["enabled"] = true }, session);
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url }, session);
        return new BrowserPage(this, target, session);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SendAsync("Browser.close", timeout: TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or WebSocketException)
        {
        }
        _stop.Cancel();
        if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
        await _reader;
        _socket.Dispose();
        _process.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One tab: evaluate script in it, screenshot it, close it.</summary>
public sealed class BrowserPage(HeadlessChromium browser, string targetId, string sessionId)
{
    /// <summary>The value of a JavaScript expression (awaited when it is a promise), as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await browser.SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true,
        }, sessionId);
        if (result["exceptionDetails"] is { } exception) throw new InvalidOperationException($"{expression}: {exception.ToJsonString()}");
        return result["result"]?["value"]?.DeepClone();
    }

    public async Task<string> TextAsync(string elementId) =>
        (await EvaluateAsync($"document.getElementById('{elementId}')?.textContent ?? ''"))?.GetValue<string>() ?? "";

    public async Task ScreenshotAsync(string path)
    {
        var shot = await browser.SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true }, sessionId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot["data"]!.GetValue<string>()));
    }

    /// <summary>Closes the tab as a contributor would (its pagehide runs, its worker and sockets go).</summary>
    public Task CloseAsync() => browser.SendAsync("Target.closeTarget", new JsonObject { ["targetId"] = targetId });
}
