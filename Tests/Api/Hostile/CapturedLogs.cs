using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Huginn.Tests.Api.Hostile;

/// <summary>Every log line a pool writes (message and exception), for tests that look for what must never be logged.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Text)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    /// <summary>Errors and worse, and any line that mentions an unhandled exception.</summary>
    public IEnumerable<string> Failures => Lines
        .Where(l => l.Level >= LogLevel.Error || l.Text.Contains("unhandled", StringComparison.OrdinalIgnoreCase))
        .Select(l => $"{l.Level} {l.Category}: {l.Text}");

    private sealed class Logger(CapturedLogs sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Lines.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : $" {exception}")));
    }
}
