using System.Text.Json.Serialization;

namespace Huginn.Workloads;

/// <summary>The kind of device a contributor offers to the pool.</summary>
[GenerateSerializer, Alias("huginn.device-kind")]
[JsonConverter(typeof(JsonStringEnumConverter<DeviceKind>))]
public enum DeviceKind
{
    [JsonStringEnumMemberName("gpu")] Gpu = 0,
    [JsonStringEnumMemberName("cpu")] Cpu = 1,
    [JsonStringEnumMemberName("browser")] Browser = 2,
}
