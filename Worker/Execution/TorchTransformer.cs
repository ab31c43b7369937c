using Huginn.Workloads;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Huginn.Worker.Execution;

/// <summary>
/// The pre-norm encoder classifier of TransformerDefinition: token + position embeddings; per block
/// x += MHA(LN1(x)) and x += FF2(act(FF1(LN2(x)))); a final LayerNorm, the mean over positions, the head.
/// </summary>
/// <remarks>
/// Attention is written out (q·kᵀ/√d, softmax, ·v) in the order of nn.MultiheadAttention's packed in_proj
/// (rows q, k, v; heads are consecutive slices of D/Heads columns), rather than through scaled_dot_product_attention:
/// that would pick a flash or memory-efficient kernel on some GPUs and the math kernel elsewhere, and honest
/// devices would then differ by more than rounding. LayerNorm eps is PyTorch's default, 1e-5.
/// </remarks>
internal sealed class TorchTransformer(ModelSpec m, IModelDefinition definition, string precision) : TorchNetwork(m, definition, precision)
{
    private const double LayerNormEps = 1e-5;
    private readonly long[] _normalized = [m.ModelDim];
    // Every parameter name a step looks up, made once, not per step (see TorchNetwork.Linears).
    private readonly BlockNames[] _blocks = Enumerable.Range(0, m.Layers).Select(l => new BlockNames($"blocks.{l}")).ToArray();
    private static readonly NormNames FinalNorm = new("norm");
    private const string HeadWeight = "head.weight", HeadBias = "head.bias";

    private sealed record NormNames(string Weight, string Bias)
    {
        public NormNames(string prefix) : this($"{prefix}.weight", $"{prefix}.bias")
        {
        }
    }

    private sealed record BlockNames(NormNames Norm1, NormNames Norm2, string InWeight, string InBias, string OutWeight, string OutBias,
        string Ff1Weight, string Ff1Bias, string Ff2Weight, string Ff2Bias)
    {
        public BlockNames(string b) : this(new NormNames($"{b}.norm1"), new NormNames($"{b}.norm2"),
            $"{b}.attention.in_proj_weight", $"{b}.attention.in_proj_bias", $"{b}.attention.out_proj.weight", $"{b}.attention.out_proj.bias",
            $"{b}.ff1.weight", $"{b}.ff1.bias", $"{b}.ff2.weight", $"{b}.ff2.bias")
        {
        }
    }

    /// <summary>Token ids stored as floats, checked to be whole ids of the vocabulary, as int64 [count, SequenceLength].</summary>
    public override Tensor Input(float[] rows, int count, Device device)
    {
        var ids = new long[checked(count * Model.SequenceLength)];
        for (var i = 0; i < ids.Length; i++)
        {
            var id = rows[i];
            if (!(id >= 0 && id < Model.VocabSize) || id != MathF.Floor(id))
                throw ShardFailureException.InvalidData($"Token id {id} is not one of the model's {Model.VocabSize} ids.");
            ids[i] = (long)id;
        }
        return torch.tensor(ids, [count, Model.SequenceLength], torch.int64, device);
    }

    protected override Tensor ForwardPass(Parameters p, Tensor input)
    {
        long batch = input.shape[0], s = Model.SequenceLength, d = Model.ModelDim;
        var x = p["embedding.token"].index_select(0, input.flatten()).view(batch, s, d) + p["embedding.position"];
        foreach (var block in _blocks)
        {
            x = x + Attention(p, block, Norm(p, block.Norm1, x));
            var hidden = Activate(Linear(Norm(p, block.Norm2, x), p[block.Ff1Weight], p[block.Ff1Bias]));
            // The residual stream stays float32: float32 + bfloat16 promotes to float32.
            x = x + Linear(hidden, p[block.Ff2Weight], p[block.Ff2Bias]);
        }
        var pooled = Norm(p, FinalNorm, x).mean([1]);
        return Linear(pooled, p[HeadWeight], p[HeadBias]);
    }

    private Tensor Norm(Parameters p, NormNames names, Tensor x) =>
        F.layer_norm(Full(x), _normalized, p[names.Weight], p[names.Bias], LayerNormEps);

    private Tensor Attention(Parameters p, BlockNames block, Tensor x)
    {
        long batch = x.shape[0], s = x.shape[1], d = Model.ModelDim, heads = Model.Heads, width = d / heads;
        var qkv = Linear(x, p[block.InWeight], p[block.InBias]).chunk(3, -1);
        Tensor Split(Tensor t) => t.reshape(batch, s, heads, width).transpose(1, 2);
        var (q, k, v) = (Split(qkv[0]), Split(qkv[1]), Split(qkv[2]));
        // An explicit Scalar kept alive past the call (see TorchExecutor.Step).
        using var scale = Math.Sqrt(width).ToScalar();
        var weights = F.softmax(Full(MatMul(q, k.transpose(-2, -1)).div(scale)), -1);
        var mixed = MatMul(Low(weights), v).transpose(1, 2).reshape(batch, s, d);
        return Linear(mixed, p[block.OutWeight], p[block.OutBias]);
    }
}
