using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Huginn.Workloads;

/// <summary>
/// A JSON document that did not bind to its .NET type (a field of the wrong type, a field the type does not have, a
/// required field missing, broken JSON) as one <see cref="SpecError"/>: the field's JSON path without "$." and the
/// reason in the API's words ("must be an integer from -2^31 to 2^31-1"), never a .NET type name. The Api's answer to a
/// body that did not bind and the CLI's check of a spec file both say it this way (issue 13, finding 6).
/// </summary>
public static partial class JsonFieldErrors
{
    /// <summary>What a field must be, for a reader who knows JSON and not .NET.</summary>
    public static string Expected(Type? type)
    {
        if (type is null) return "of the documented type";
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"one of {string.Join(", ", EnumNames(type).Select(n => $"\"{n}\""))}";
        if (ElementOf(type) is { } element && type != typeof(string)) return $"an array of {Plural(element)}";
        return Singular(type);
    }

    /// <param name="json">The serializer's exception.</param>
    /// <param name="rootType">The type the document was read into, to find the declared type of a field by its path.</param>
    /// <param name="root">What to call the document itself when the error is about all of it ("body", "spec").</param>
    public static SpecError Describe(JsonException json, Type? rootType, string root = "body")
    {
        ArgumentNullException.ThrowIfNull(json);
        // Broken JSON is the document's fault, wherever the reader stopped.
        if (json.InnerException is null && json.Message.Contains("depth", StringComparison.Ordinal) || IsReaderError(json))
            return new SpecError(root, $"is not valid JSON (line {json.LineNumber + 1}, byte {json.BytePositionInLine})");
        var field = FieldOf(json.Path);
        if (UnmappedProperty().Match(json.Message) is { Success: true } unmapped)
        {
            var name = unmapped.Groups["name"].Value;
            // The path usually ends at the unknown property already; when it stops at its parent, append it.
            if (!field.EndsWith(name, StringComparison.Ordinal)) field = field.Length == 0 ? name : $"{field}.{name}";
            return new SpecError(field, "is not a field of this request");
        }
        if (MissingRequired().Match(json.Message) is { Success: true } missing)
        {
            var name = missing.Groups["name"].Value;
            return new SpecError(field.Length == 0 ? name : $"{field}.{name}", "is required");
        }
        if (field.Length == 0) return new SpecError(root, "must be a JSON object");
        var declared = TypeAt(rootType, field);
        // The message names either the value's own type ("System.Int32", an enum) or the record whose constructor was
        // reading it; in the second case the path's last segment is the property in it.
        var named = ConvertedType().Match(json.Message) is { Success: true } m ? m.Groups["type"].Value : null;
        var type = named is null || declared is not null && NameOf(declared) == named ? declared
            : named.StartsWith("System.", StringComparison.Ordinal) ? Type.GetType(named) ?? declared
            : FindType(named) is { } found ? (found.IsEnum ? found : TypeAt(found, field.Split('.')[^1]) ?? declared)
            : declared;
        return new SpecError(field, $"must be {Expected(type)}");
    }

    /// <summary>An enum's names on the wire: its <see cref="System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute"/>, else camelCase.</summary>
    private static IEnumerable<string> EnumNames(Type type) => type.GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => f.GetCustomAttribute<System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(f.Name));

    private static string NameOf(Type type) => (Nullable.GetUnderlyingType(type) ?? type).FullName ?? "";

    private static string Singular(Type type)
    {
        if (type.IsEnum) return Expected(type);
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(decimal)) return "a number (at most 7.9e28)";
        if (type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(int)) return "an integer from -2^31 to 2^31-1";
        if (type == typeof(uint)) return "an integer from 0 to 2^32-1";
        if (type == typeof(long)) return "an integer from -2^63 to 2^63-1";
        if (type == typeof(ulong)) return "an integer from 0 to 2^64-1";
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime)) return "an ISO-8601 time";
        if (type == typeof(Guid)) return "a UUID";
        return "a JSON object";
    }

    private static string Plural(Type element)
    {
        element = Nullable.GetUnderlyingType(element) ?? element;
        if (element == typeof(string)) return "strings";
        if (element == typeof(bool)) return "true or false values";
        if (element == typeof(int) || element == typeof(long) || element == typeof(uint) || element == typeof(ulong)) return "integers";
        if (element == typeof(double) || element == typeof(float) || element == typeof(decimal)) return "numbers";
        if (element.IsEnum) return $"strings, each {Expected(element)}";
        return "JSON objects";
    }

    private static bool IsReaderError(JsonException json) =>
        json.InnerException?.GetType().Name == "JsonReaderException" || json.GetType().Name == "JsonReaderException";

    private static string FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "";
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    /// <summary>The declared type of the property at a path like "spec.model.hiddenSizes[0]", null when unknown.</summary>
    private static Type? TypeAt(Type? type, string field)
    {
        foreach (var segment in field.Split('.'))
        {
            if (type is null) return null;
            var bracket = segment.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? segment : segment[..bracket];
            var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            type = property?.PropertyType;
            if (type is not null && bracket >= 0) type = ElementOf(type);
        }
        return type;
    }

    private static Type? ElementOf(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments().LastOrDefault()
        : null;

    private static Type? FindType(string fullName) => AppDomain.CurrentDomain.GetAssemblies()
        .Where(a => a.GetName().Name?.StartsWith("Huginn", StringComparison.Ordinal) == true)
        .Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null);

    [GeneratedRegex("could not be converted to (?<type>[\\w.`+\\[\\]]+?)\\. Path")]
    private static partial Regex ConvertedType();

    [GeneratedRegex("The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnmappedProperty();

    [GeneratedRegex("missing required properties,? including:? '(?<name>[^']*)'")]
    private static partial Regex MissingRequired();
}
