using System.Runtime.CompilerServices;
using System.Text;

namespace Huginn.Cli.Http;

public sealed record ServerSentEvent(string Name, string Data);

/// <summary>Reads a text/event-stream (the WHATWG format: "event:" and "data:" lines, a blank line ends an event).</summary>
public static class ServerSentEvents
{
    public static async IAsyncEnumerable<ServerSentEvent> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? name = null;
        var data = new StringBuilder();
        var hasData = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (hasData) yield return new ServerSentEvent(name ?? "message", data.ToString());
                (name, hasData) = (null, false);
                data.Clear();
                continue;
            }
            if (line[0] == ':') continue; // a comment: the server's keep-alive
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' ')) value = value[1..];
            switch (field)
            {
                case "event":
                    name = value;
                    break;
                case "data":
                    if (hasData) data.Append('\n');
                    data.Append(value);
                    hasData = true;
                    break;
            }
        }
    }
}
