using Microsoft.Extensions.Options;

namespace Huginn.Api.Hosting;

/// <summary>
/// Refuses to start with settings that would leave the edge open: an operator key too weak to resist guessing
/// (issue 12, finding 7), limits and timeouts that are not positive.
/// </summary>
public sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    /// <summary>32 random bytes: what <c>openssl rand -base64 32</c> (44 characters) or <c>-hex 32</c> (64) prints.</summary>
    public const int MinOperatorKeyBits = 256;

    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var errors = new List<string>();
        if (options.OperatorKey is { } key && OperatorKeyWeakness(key) is { } weakness)
            errors.Add($"{ApiOptions.Section}:OperatorKey {weakness}; it must hold at least 32 random bytes, e.g. the output of 'openssl rand -base64 32'");
        if (options.WorkerIdleTimeout <= TimeSpan.Zero) errors.Add($"{ApiOptions.Section}:WorkerIdleTimeout must be positive");
        if (options.FrameReadTimeout <= TimeSpan.Zero) errors.Add($"{ApiOptions.Section}:FrameReadTimeout must be positive");
        if (options.HelloTimeout <= TimeSpan.Zero) errors.Add($"{ApiOptions.Section}:HelloTimeout must be positive");
        if (options.MaxDevicesPerOwner < 1) errors.Add($"{ApiOptions.Section}:MaxDevicesPerOwner must be at least 1");
        if (options.MaxSocketsPerOwner < 1) errors.Add($"{ApiOptions.Section}:MaxSocketsPerOwner must be at least 1");
        if (options.BlobBytesPerAccount < 1) errors.Add($"{ApiOptions.Section}:BlobBytesPerAccount must be at least 1");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>
    /// Why a key is too weak, or null. A heuristic, since randomness cannot be read off one string: the length times
    /// the bits of the character classes it uses must reach 256, and no character may fill more than a quarter of it
    /// (which refuses "aaaa…" and "password-password-…" of any length). Hex (64+) and base64 (43+) of 32 random bytes pass.
    /// </summary>
    public static string? OperatorKeyWeakness(string key)
    {
        if (string.IsNullOrWhiteSpace(key)) return "is empty";
        int alphabet = 0;
        if (key.Any(char.IsAsciiDigit)) alphabet += 10;
        if (key.Any(char.IsAsciiLetterLower)) alphabet += key.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f') ? 6 : 26;
        if (key.Any(char.IsAsciiLetterUpper)) alphabet += 26;
        if (key.Any(c => !char.IsAsciiLetterOrDigit(c))) alphabet += 4;
        var bits = key.Length * Math.Log2(Math.Max(2, alphabet));
        if (bits < MinOperatorKeyBits) return $"has about {bits:0} bits ({key.Length} characters)";
        if (key.GroupBy(c => c).Max(g => g.Count()) * 4 > key.Length) return "repeats one character too often to be random";
        return null;
    }
}
