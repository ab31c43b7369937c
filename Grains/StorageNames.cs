namespace Huginn.Grains;

/// <summary>Names of the Orleans providers the grains use; hosts register providers under these names.</summary>
public static class StorageNames
{
    /// <summary>Grain state of every Huginn grain.</summary>
    public const string State = "huginn";

    /// <summary>Orleans stream pub-sub state.</summary>
    public const string PubSub = "PubSubStore";
}
