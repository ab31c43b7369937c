using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Huginn.Cli.Output;

/// <summary>How figures read in human output: invariant culture, HU and € as the API gives them, short durations.</summary>
public static class Formats
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Hu(decimal hu) => $"{hu.ToString(Invariant)} HU";

    public static string Eur(decimal eur) => $"€{eur.ToString(Invariant)}";

    public static string Percent(double fraction) => $"{(fraction * 100).ToString("0.##", Invariant)} %";

    public static string Number(double value, string format = "0.######") => value.ToString(format, Invariant);

    public static string Duration(double seconds) => seconds switch
    {
        <= 0 or double.NaN or double.PositiveInfinity => "unknown",
        < 90 => $"~{Math.Ceiling(seconds).ToString(Invariant)} s",
        < 90 * 60 => $"~{Math.Ceiling(seconds / 60).ToString(Invariant)} min",
        _ => $"~{(seconds / 3600).ToString("0.#", Invariant)} h",
    };

    public static string Time(DateTimeOffset? time) => time?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", Invariant) ?? "-";

    /// <summary>Label and value lines, labels aligned; values are plain text, never markup, and lines carry no padding.</summary>
    public static IRenderable Fields(params (string Label, string Value)[] rows)
    {
        var width = rows.Length == 0 ? 0 : rows.Max(r => r.Label.Length);
        return new Rows(rows.Select(r => new Markup($"[grey]{Markup.Escape(r.Label.PadRight(width))}[/]  {Markup.Escape(r.Value)}")));
    }
}
