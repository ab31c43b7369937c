using System.CommandLine;
using Huginn.Cli.Http;
using Spectre.Console;

namespace Huginn.Cli;

/// <summary>The options every command takes, and what one invocation works with: the API, the key, the output mode.</summary>
public sealed class Session : IDisposable
{
    public const string DefaultApi = "http://127.0.0.1:5080";
    public const string ApiVariable = "HUGINN_API";
    public const string KeyVariable = "HUGINN_API_KEY";

    public static readonly Option<string> ApiOption = new("--api")
    {
        Description = $"The pool's API address (env {ApiVariable}).",
        HelpName = "URL",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ApiVariable) is { Length: > 0 } api ? api : DefaultApi,
        Recursive = true,
    };

    // No DefaultValueFactory: help prints defaults, and a key must never appear there.
    public static readonly Option<string?> KeyOption = new("--key")
    {
        Description = $"Your account's API key (env {KeyVariable}).",
        HelpName = "KEY",
        Recursive = true,
    };

    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print the API's raw JSON responses (one per line) instead of text, for scripts.",
        Recursive = true,
    };

    private HuginnClient? _client;
    private HuginnClient? _anonymous;

    private Session(Uri api, string? key, bool json)
    {
        Api = api;
        Key = key;
        Json = json;
    }

    public Uri Api { get; }
    public string? Key { get; }
    public bool Json { get; }

    /// <summary>Human output; scripts read <see cref="WriteJson"/> lines instead.</summary>
    public IAnsiConsole Out { get; } = CreateConsole();

    /// <summary>Stdout for people; when it goes to a file or a pipe, lines are not wrapped at a guessed 80 columns.</summary>
    private static IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected) console.Profile.Width = 1000;
        return console;
    }

    public static Session From(ParseResult parse)
    {
        var text = parse.GetValue(ApiOption)!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
            throw CliException.Usage($"--api must be an http:// or https:// address, not '{text}'");
        // A base path ("https://host/huginn") keeps its segments only with a trailing slash.
        if (!api.AbsolutePath.EndsWith('/')) api = new Uri(api.AbsoluteUri + "/");
        var key = parse.GetValue(KeyOption) is { Length: > 0 } given ? given : Environment.GetEnvironmentVariable(KeyVariable);
        return new Session(api, string.IsNullOrWhiteSpace(key) ? null : key.Trim(), parse.GetValue(JsonOption));
    }

    /// <summary>The API client, with the account key; refuses before any request when there is none.</summary>
    public HuginnClient Client()
    {
        if (Key is null)
            throw new CliException(ExitCodes.Auth, "no API key", [$"pass --key KEY or set {KeyVariable} (huginn account create prints one)"]);
        return _client ??= new HuginnClient(Api, Key);
    }

    /// <summary>A client without a key, for the endpoints open to anyone (account creation).</summary>
    public HuginnClient Anonymous() => _anonymous ??= new HuginnClient(Api, null);

    public void WriteJson(string json) => Console.Out.WriteLine(json.Trim());

    public void Dispose()
    {
        _client?.Dispose();
        _anonymous?.Dispose();
    }
}
