using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class ModelRegistryTests
{
    public static TheoryData<string> ModelTypes => new() { ModelSpec.Mlp, ModelSpec.Cnn, ModelSpec.Transformer };

    private static ModelSpec Example(string type) => type switch
    {
        ModelSpec.Mlp => ExampleSpecs.Mlp(10, [20, 7], 3),
        ModelSpec.Cnn => ExampleSpecs.Cnn(),
        _ => ExampleSpecs.Transformer(),
    };

    [Fact]
    public void Registry_knows_mlp_cnn_and_transformer()
    {
        Assert.Equal(["cnn", "mlp", "transformer"], ModelRegistry.Types.Order());
        Assert.Equal("cnn", ModelRegistry.Get("cnn").Type);
    }

    [Fact]
    public void Unknown_model_type_is_not_in_the_registry()
    {
        Assert.False(ModelRegistry.TryGet("rnn", out _));
        Assert.False(ModelRegistry.TryGet("MLP", out _));
        var error = Assert.Throws<ArgumentException>(() => ModelRegistry.Get("rnn"));
        Assert.Contains("rnn", error.Message);
    }

    [Theory]
    [MemberData(nameof(ModelTypes))]
    public void Parameter_count_matches_layout(string type)
    {
        var model = Example(type);
        var definition = ModelRegistry.Get(type);

        Assert.Empty(definition.Validate(model));
        Assert.Equal(definition.Layout(model).Sum(t => t.Size), definition.ParameterCount(model));
    }

    [Fact]
    public void Mlp_parameter_count_matches_layout()
    {
        var model = ExampleSpecs.Mlp(10, [20, 7], 3);

        Assert.Equal(10 * 20 + 20 + 20 * 7 + 7 + 7 * 3 + 3, ModelRegistry.Get("mlp").ParameterCount(model));
    }

    [Fact]
    public void Mlp_layout_is_weight_then_bias_per_layer_as_pytorch_linear()
    {
        var layout = ModelRegistry.Get("mlp").Layout(ExampleSpecs.Mlp(4, [8, 3], 2));

        Assert.Equal(
            ["fc0.weight [8,4] fanIn 4", "fc0.bias [8] fanIn 4", "fc1.weight [3,8] fanIn 8", "fc1.bias [3] fanIn 8", "fc2.weight [2,3] fanIn 3", "fc2.bias [2] fanIn 3"],
            layout.Select(t => $"{t.Name} [{string.Join(',', t.Shape)}] fanIn {t.FanIn}"));
        Assert.All(layout, t => Assert.Equal(ParameterInit.Uniform, t.Init));
    }

    [Fact]
    public void Mlp_forward_flops_are_two_per_weight()
    {
        var definition = ModelRegistry.Get("mlp");
        var model = ExampleSpecs.Mlp(4, [8], 2);

        Assert.Equal(2 * (4 * 8 + 8 * 2), definition.ForwardFlopsPerSample(model));
        Assert.Equal(4, definition.FeaturesPerSample(model));
        Assert.Equal(2, definition.OutputsPerSample(model));
        Assert.Equal(4 + 2 * 8 + 2 * 2, definition.ActivationFloatsPerSample(model));
    }

    [Fact]
    public void Targets_per_sample_are_the_outputs_under_mse_and_one_class_index_under_cross_entropy()
    {
        var definition = ModelRegistry.Get("mlp");

        Assert.Equal(3, definition.TargetsPerSample(ExampleSpecs.Mlp(4, [8], 3, ModelSpec.Mse)));
        Assert.Equal(1, definition.TargetsPerSample(ExampleSpecs.Mlp(4, [8], 3, ModelSpec.CrossEntropy)));
    }

    [Fact]
    public void Cnn_flops_count_each_convolution_at_full_resolution_then_the_head()
    {
        var definition = ModelRegistry.Get("cnn");
        var model = ExampleSpecs.Cnn(); // 1x8x8 → conv 4 → pool 4x4 → conv 8 → pool 2x2 → 32 → 10

        Assert.Equal(2 * 9 * 1 * 4 * 64 + 2 * 9 * 4 * 8 * 16 + 2 * 32 * 10, definition.ForwardFlopsPerSample(model));
        Assert.Equal((1 * 4 * 9 + 4) + (4 * 8 * 9 + 8) + (32 * 10 + 10), definition.ParameterCount(model));
        Assert.Equal(64, definition.FeaturesPerSample(model));
        Assert.Equal(
            ["conv0.weight [4,1,3,3]", "conv0.bias [4]", "conv1.weight [8,4,3,3]", "conv1.bias [8]", "fc0.weight [10,32]", "fc0.bias [10]"],
            definition.Layout(model).Select(t => $"{t.Name} [{string.Join(',', t.Shape)}]"));
    }

    [Fact]
    public void Transformer_figures_follow_the_documented_formulas()
    {
        var definition = ModelRegistry.Get("transformer");
        var model = ExampleSpecs.Transformer(); // V 100, S 16, D 32, H 4, L 2, F 64, O 5
        const long d = 32, f = 64, s = 16, layers = 2;

        Assert.Equal((100 + 16) * d + layers * (4 * d * d + 2 * d * f + 9 * d + f) + 2 * d + d * 5 + 5, definition.ParameterCount(model));
        Assert.Equal(2 * layers * (4 * d * d + 2 * d * f) * s + layers * 4 * s * s * d + 2 * d * 5, definition.ForwardFlopsPerSample(model));
        Assert.Equal(16, definition.FeaturesPerSample(model));
        Assert.Equal(1, definition.TargetsPerSample(model));
    }

    [Fact]
    public void Transformer_layer_norms_start_at_one_and_zero_and_embeddings_are_normal()
    {
        var layout = ModelRegistry.Get("transformer").Layout(ExampleSpecs.Transformer());

        Assert.Equal(["embedding.token", "embedding.position"], layout.Take(2).Select(t => t.Name));
        Assert.All(layout.Take(2), t => Assert.Equal(ParameterInit.Normal, t.Init));
        Assert.All(layout.Where(t => t.Name.Contains("norm") && t.Name.EndsWith(".weight")), t => Assert.Equal(ParameterInit.Ones, t.Init));
        Assert.All(layout.Where(t => t.Name.Contains("norm") && t.Name.EndsWith(".bias")), t => Assert.Equal(ParameterInit.Zeros, t.Init));
        Assert.Equal("head.bias", layout[^1].Name);
    }

    [Fact]
    public void Transformer_heads_must_divide_the_model_dimension()
    {
        var errors = ModelRegistry.Get("transformer").Validate(ExampleSpecs.Transformer() with { Heads = 5 });

        Assert.Equal([new SpecError("model.heads", "must divide modelDim")], errors);
    }

    [Fact]
    public void Cnn_kernel_must_be_odd_and_the_image_must_survive_the_pools()
    {
        var definition = ModelRegistry.Get("cnn");

        Assert.Equal(["model.kernelSize"], definition.Validate(ExampleSpecs.Cnn() with { KernelSize = 4 }).Select(e => e.Field));
        Assert.Equal(["model.imageSize"], definition.Validate(ExampleSpecs.Cnn() with { ImageSize = 3 }).Select(e => e.Field));
        Assert.Equal(["model.inputSize"], definition.Validate(ExampleSpecs.Cnn() with { InputSize = 63 }).Select(e => e.Field));
        Assert.Empty(definition.Validate(ExampleSpecs.Cnn() with { InputSize = 64 }));
    }
}
