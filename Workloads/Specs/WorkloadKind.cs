using System.Text.Json.Serialization;

namespace Huginn.Workloads;

/// <summary>What a job does: train a model, run it over inputs, or prepare data.</summary>
[GenerateSerializer, Alias("huginn.workload-kind")]
[JsonConverter(typeof(JsonStringEnumConverter<WorkloadKind>))]
public enum WorkloadKind
{
    [JsonStringEnumMemberName("train")] Train = 0,
    [JsonStringEnumMemberName("infer")] Infer = 1,
    [JsonStringEnumMemberName("prep")] Prep = 2,
}
