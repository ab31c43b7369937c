using Huginn.Worker.Agent;

namespace Huginn.Tests.Api.Hostile;

/// <summary>Issue 12, finding 10: the worker prints its device token only when asked.</summary>
public sealed class WorkerTokenTests
{
    private const string Token = "hd_secret-token-for-the-test";

    private static WorkerOptions Parse(params string[] args)
    {
        var (options, _, error) = WorkerCommandLine.Parse(args, _ => null);
        Assert.True(options is not null, error);
        return options!;
    }

    [Fact]
    public void Registration_does_not_print_the_token_by_default()
    {
        var options = Parse("--api", "http://127.0.0.1:5080", "--register", "--api-key", "hk_x");

        var line = DeviceRegistrar.Announce("dev_1", Token, options);

        Assert.DoesNotContain(Token, line);
        Assert.Contains("--show-token", line);
    }

    [Fact]
    public void Registration_prints_the_token_with_show_token()
    {
        var options = Parse("--api", "http://127.0.0.1:5080", "--register", "--api-key", "hk_x", "--show-token");

        Assert.Contains(Token, DeviceRegistrar.Announce("dev_1", Token, options));
    }

    [Fact]
    public void A_token_file_keeps_the_token_owner_only_for_the_next_run_without_printing_it()
    {
        var path = Path.Combine(Path.GetTempPath(), $"huginn-token-{Guid.NewGuid():N}");
        try
        {
            var options = Parse("--api", "http://127.0.0.1:5080", "--register", "--api-key", "hk_x", "--token-file", path);

            var line = DeviceRegistrar.Announce("dev_1", Token, options);

            Assert.DoesNotContain(Token, line);
            Assert.Equal(Token, DeviceRegistrar.ReadToken(path));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(path, Parse("--api", "http://127.0.0.1:5080", "--token-file", path).TokenFile);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
