using System.Diagnostics.CodeAnalysis;

namespace Huginn.Workloads;

/// <summary>The model types the pool can run, by their <see cref="ModelSpec.Type"/> key (case-sensitive).</summary>
public static class ModelRegistry
{
    private static readonly Dictionary<string, IModelDefinition> Definitions = new IModelDefinition[]
    {
        new MlpDefinition(),
        new CnnDefinition(),
        new TransformerDefinition(),
    }.ToDictionary(d => d.Type, StringComparer.Ordinal);

    /// <summary>The registered type keys.</summary>
    public static IReadOnlyCollection<string> Types => Definitions.Keys;

    /// <summary>The definition for a type; throws <see cref="ArgumentException"/> for an unknown one.</summary>
    public static IModelDefinition Get(string type) =>
        TryGet(type, out var definition)
            ? definition
            : throw new ArgumentException($"Unknown model type '{type}'; known: {string.Join(", ", Types)}.", nameof(type));

    public static bool TryGet(string type, [MaybeNullWhen(false)] out IModelDefinition definition)
    {
        if (type is not null && Definitions.TryGetValue(type, out var found))
        {
            definition = found;
            return true;
        }
        definition = null;
        return false;
    }
}
