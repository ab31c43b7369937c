using Huginn.Workloads;

namespace Huginn.Worker.Agent;

/// <summary>TEST ONLY: the misbehaviours behind --fault, so verification can be exercised with real workers.</summary>
public static class Faults
{
    public static ShardOutput Apply(Fault fault, ShardOutput honest) => fault switch
    {
        Fault.Wrong => honest with { Values = honest.Values.Select(v => -v).ToArray(), Bytes = honest.Bytes.Select(b => (byte)~b).ToArray() },
        Fault.Noisy => honest with { Values = AddNoise(honest.Values, 0.05) },
        Fault.Lazy => honest with { Values = new float[honest.Values.Length], Bytes = new byte[honest.Bytes.Length] },
        Fault.NonFinite => honest with { Values = honest.Values.Select((v, i) => i % 3 == 0 ? float.NaN : i % 3 == 1 ? float.PositiveInfinity : v).ToArray() },
        _ => honest,
    };

    private static float[] AddNoise(float[] values, double relative)
    {
        var norm = Math.Sqrt(values.Sum(v => (double)v * v) / Math.Max(1, values.Length));
        var random = new Random(values.Length);
        return values.Select(v => (float)(v + relative * norm * (random.NextDouble() * 2 - 1) * Math.Sqrt(3))).ToArray();
    }
}
