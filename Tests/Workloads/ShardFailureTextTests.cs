using Huginn.Workloads;

namespace Huginn.Tests.Workloads;

/// <summary>A worker's words reach the job's owner only after this: no paths, no stack trace, no secrets, bounded.</summary>
public sealed class ShardFailureTextTests
{
    [Theory]
    [InlineData("Class index 9 is not one of the model's 9 classes.", "Class index 9 is not one of the model's 9 classes.")]
    [InlineData("Could not open /home/alice/.huginn/cache/ab12/data.bin: denied", "Could not open (path): denied")]
    [InlineData("Could not open C:\\Users\\alice\\cache\\data.bin now", "Could not open (path) now")]
    [InlineData("boom\n   at Huginn.Worker.Execution.TorchExecutor.Train(TorchNetwork n) in /src/TorchExecutor.cs:line 80", "boom")]
    [InlineData("token hd_AbCdEfGh1234567890_-xyz was refused", "token (redacted) was refused")]
    [InlineData("header Bearer hk_secretsecretsecret sent", "header (redacted) sent")]
    [InlineData("key dGhpc0lzQVNlY3JldEtleVdpdGhEaWdpdHMxMjM0NTY3OA== leaked", "key (redacted) leaked")]
    [InlineData("bell\u0007 and\ttab", "bell and tab")]
    [InlineData("   ", null)]
    [InlineData(null, null)]
    public void Sanitize_keeps_the_message_and_drops_what_is_not_the_owners_business(string? raw, string? expected)
    {
        Assert.Equal(expected, ShardFailureText.Sanitize(raw));
    }

    [Fact]
    public void A_content_id_and_a_ratio_are_not_secrets_or_paths()
    {
        var blob = new string('a', 32) + new string('0', 32);
        Assert.Equal($"blob {blob} arrived corrupted at 3/4", ShardFailureText.Sanitize($"blob {blob} arrived corrupted at 3/4"));
    }

    [Fact]
    public void Sanitize_caps_the_length()
    {
        var text = ShardFailureText.Sanitize(new string('x', 5000));
        Assert.Equal(ShardFailureText.MaxLength, text!.Length);
        Assert.EndsWith("…", text);
    }

    [Theory]
    [InlineData("invalid_data", "invalid_data", true)]
    [InlineData("invalid_weights", "invalid_weights", true)]
    [InlineData("nonfinite", "nonfinite", true)]
    [InlineData("out_of_memory", "out_of_memory", false)]
    [InlineData("INVALID_DATA", "internal", false)]
    [InlineData("rm -rf /", "internal", false)]
    [InlineData(null, "internal", false)]
    public void Unknown_codes_are_internal_and_only_spec_and_data_codes_are_deterministic(string? code, string normalized, bool deterministic)
    {
        Assert.Equal(normalized, ShardErrorCodes.Normalize(code));
        Assert.Equal(deterministic, ShardErrorCodes.IsDeterministic(ShardErrorCodes.Normalize(code)));
    }
}
