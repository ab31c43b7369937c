namespace Huginn.Workloads;

/// <summary>
/// A small pre-norm transformer encoder classifier over token ids. x = token embedding + learned position
/// embedding; then Layers blocks of x += MHA(LN1(x)); x += FF2(act(FF1(LN2(x)))) with Heads heads, no mask and
/// no dropout; then a final LayerNorm, the mean over positions, and a linear head to OutputSize.
/// </summary>
/// <remarks>
/// Layout: embedding.token [VocabSize, D] and embedding.position [SequenceLength, D] (standard normal); per block
/// blocks.{l}.norm1.weight/bias [D], blocks.{l}.attention.in_proj_weight [3D, D] (rows q, k, v as in PyTorch's
/// nn.MultiheadAttention), .in_proj_bias [3D], .out_proj.weight [D, D], .out_proj.bias [D],
/// blocks.{l}.norm2.weight/bias [D], blocks.{l}.ff1.weight [F, D], .ff1.bias [F], blocks.{l}.ff2.weight [D, F],
/// .ff2.bias [D]; then norm.weight/bias [D] and head.weight [OutputSize, D], head.bias [OutputSize].
/// A sample's features are SequenceLength token ids stored as floats (exact below 2^24).
/// </remarks>
internal sealed class TransformerDefinition : IModelDefinition
{
    private const int MaxVocabulary = 1 << 24;
    private const int MaxSequence = 1 << 16;
    private const int MaxLayers = 128;

    public string Type => ModelSpec.Transformer;

    public IReadOnlyList<ParameterTensor> Layout(ModelSpec m)
    {
        int d = m.ModelDim, f = m.FeedForwardDim;
        var layout = new List<ParameterTensor>
        {
            new("embedding.token", [m.VocabSize, d], 0, ParameterInit.Normal),
            new("embedding.position", [m.SequenceLength, d], 0, ParameterInit.Normal),
        };
        for (var l = 0; l < m.Layers; l++)
        {
            var block = $"blocks.{l}";
            AddNorm(layout, $"{block}.norm1", d);
            layout.Add(new ParameterTensor($"{block}.attention.in_proj_weight", [3 * d, d], d));
            layout.Add(new ParameterTensor($"{block}.attention.in_proj_bias", [3 * d], d));
            layout.Add(new ParameterTensor($"{block}.attention.out_proj.weight", [d, d], d));
            layout.Add(new ParameterTensor($"{block}.attention.out_proj.bias", [d], d));
            AddNorm(layout, $"{block}.norm2", d);
            layout.Add(new ParameterTensor($"{block}.ff1.weight", [f, d], d));
            layout.Add(new ParameterTensor($"{block}.ff1.bias", [f], d));
            layout.Add(new ParameterTensor($"{block}.ff2.weight", [d, f], f));
            layout.Add(new ParameterTensor($"{block}.ff2.bias", [d], f));
        }
        AddNorm(layout, "norm", d);
        layout.Add(new ParameterTensor("head.weight", [m.OutputSize, d], d));
        layout.Add(new ParameterTensor("head.bias", [m.OutputSize], d));
        return layout;
    }

    /// <summary>Embeddings (V+S)·D; per block 4D²+2DF+9D+F (projections, FFN, two LayerNorms); final LayerNorm 2D; head D·O+O.</summary>
    public long ParameterCount(ModelSpec m)
    {
        long d = m.ModelDim, f = m.FeedForwardDim;
        var perBlock = checked(4 * d * d + 2 * d * f + 9 * d + f);
        return checked((m.VocabSize + (long)m.SequenceLength) * d + m.Layers * perBlock + 2 * d + d * m.OutputSize + m.OutputSize);
    }

    /// <summary>
    /// 2·(matmul weights per token)·S with 4D²+2DF matmul weights per block (q, k, v, out projections and the
    /// FFN), plus 4·S²·D per block for attention (scores QKᵀ and their product with V), plus 2·D·O for the head.
    /// Embedding lookups, LayerNorms, softmax and the pooling are left out.
    /// </summary>
    public long ForwardFlopsPerSample(ModelSpec m)
    {
        long d = m.ModelDim, f = m.FeedForwardDim, s = m.SequenceLength, layers = m.Layers;
        var matmulWeightsPerToken = checked(layers * (4 * d * d + 2 * d * f));
        var attention = checked(layers * 4 * s * s * d);
        return checked(2 * matmulWeightsPerToken * s + attention + 2 * d * m.OutputSize);
    }

    public int FeaturesPerSample(ModelSpec m) => m.SequenceLength;

    public int TargetsPerSample(ModelSpec m) => ModelChecks.Targets(m);

    public int OutputsPerSample(ModelSpec m) => m.OutputSize;

    /// <summary>
    /// Embedded input S·D; per block S·(8D+2F) (two LayerNorm outputs, q/k/v, attention output, FFN hidden before
    /// and after the activation, two residual sums) and 2·Heads·S² (scores and softmax); final norm S·D; pooled D
    /// and the outputs.
    /// </summary>
    public long ActivationFloatsPerSample(ModelSpec m)
    {
        long d = m.ModelDim, f = m.FeedForwardDim, s = m.SequenceLength;
        var perBlock = checked(s * (8 * d + 2 * f) + 2L * m.Heads * s * s);
        return checked(2 * s * d + m.Layers * perBlock + d + 2L * m.OutputSize);
    }

    public IEnumerable<SpecError> Validate(ModelSpec m)
    {
        var errors = new List<SpecError>();
        ModelChecks.Range(errors, "model.vocabSize", m.VocabSize, 2, MaxVocabulary);
        ModelChecks.Range(errors, "model.sequenceLength", m.SequenceLength, 1, MaxSequence);
        ModelChecks.Range(errors, "model.modelDim", m.ModelDim, 1, ModelChecks.MaxWidth);
        ModelChecks.Range(errors, "model.heads", m.Heads, 1, Math.Max(1, m.ModelDim));
        if (m.Heads > 0 && m.ModelDim > 0 && m.ModelDim % m.Heads != 0)
            errors.Add(new SpecError("model.heads", "must divide modelDim"));
        ModelChecks.Range(errors, "model.layers", m.Layers, 1, MaxLayers);
        ModelChecks.Range(errors, "model.feedForwardDim", m.FeedForwardDim, 1, ModelChecks.MaxWidth);
        ModelChecks.Head(errors, m);
        ModelChecks.DerivedInput(errors, m, m.SequenceLength, "sequenceLength");
        return errors;
    }

    private static void AddNorm(List<ParameterTensor> layout, string prefix, int d)
    {
        layout.Add(new ParameterTensor($"{prefix}.weight", [d], 0, ParameterInit.Ones));
        layout.Add(new ParameterTensor($"{prefix}.bias", [d], 0, ParameterInit.Zeros));
    }
}
