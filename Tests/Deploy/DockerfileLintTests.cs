using System.Text.RegularExpressions;

namespace Huginn.Tests.Deploy;

/// <summary>
/// The images' rules, checked on the Dockerfiles themselves (no Docker engine here): multi-stage, base images pinned to
/// an exact version on Ubuntu 24.04, a non-root numeric user, a health check, OCI labels, exec-form entry points.
/// </summary>
public sealed partial class DockerfileLintTests
{
    public static TheoryData<string> Images => new() { "silo", "api", "worker", "worker-cuda" };

    [Fact]
    public void Api_image_serves_the_contributor_page_built_from_the_lockfile()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "deploy", "api", "Dockerfile"));
        Assert.Contains("npm ci", text);
        Assert.Contains("COPY web/package.json web/package-lock.json", text);
        Assert.Contains("COPY --from=web /web/dist ./web", text);
        Assert.Contains("Huginn__Api__WebRoot=/app/web", text);
        var ignored = File.ReadAllText(Path.Combine(RepositoryPaths.Root, ".dockerignore"));
        Assert.Contains("**/node_modules/", ignored);
    }

    [Fact]
    public void Every_image_in_deploy_is_one_of_the_four_this_suite_lints()
    {
        var found = Directory.GetFiles(RepositoryPaths.Deploy, "Dockerfile*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepositoryPaths.Deploy, f)).Order().ToArray();
        Assert.Equal(["api/Dockerfile", "silo/Dockerfile", "worker-cuda/Dockerfile", "worker/Dockerfile"], found);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_follows_the_rules(string image)
    {
        var dockerfile = Dockerfile.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Deploy, image, "Dockerfile")));
        Assert.Empty(Violations(dockerfile));
    }

    [Fact]
    public void Cuda_worker_builds_the_gpu_TorchSharp_and_says_which_driver_it_needs()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Deploy, "worker-cuda", "Dockerfile"));
        var cpu = File.ReadAllText(Path.Combine(RepositoryPaths.Deploy, "worker", "Dockerfile"));

        // The property Worker/Worker.csproj switches on to swap libtorch-cpu for TorchSharp-cuda-linux.
        Assert.Contains("-p:HuginnGpu=true", text);
        Assert.Contains("'$(HuginnGpu)' == 'true'", File.ReadAllText(Path.Combine(RepositoryPaths.Root, "Worker", "Worker.csproj")));
        Assert.Matches(@"driver 5\d\d or newer", text);
        Assert.Contains("CUDA 12.8", text);
        Assert.Contains("NVIDIA_VISIBLE_DEVICES", text);
        Assert.Contains("-p:HuginnGpu=false", cpu);
    }

    [Fact]
    public void Dockerignore_keeps_build_outputs_tests_and_git_out_of_every_context()
    {
        var ignored = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".dockerignore")).Select(l => l.Trim()).ToHashSet();
        foreach (var entry in new[] { "**/bin/", "**/obj/", ".git/", "Tests/" }) Assert.Contains(entry, ignored);
        // What the images do need must not be ignored.
        Assert.DoesNotContain("deploy/", ignored);
        Assert.DoesNotContain("Directory.Packages.props", ignored);
    }

    [Fact]
    public void Health_probe_script_exists_and_is_executable()
    {
        var probe = Path.Combine(RepositoryPaths.Deploy, "probe.sh");
        Assert.True(File.Exists(probe));
        // git keeps the mode; an image built from a checkout where it is lost would fail every health check.
        if (!OperatingSystem.IsWindows())
            Assert.True((File.GetUnixFileMode(probe) & UnixFileMode.UserExecute) != 0, "deploy/probe.sh is not executable");
    }

    [Fact]
    public void The_lint_catches_what_it_is_meant_to_catch()
    {
        var bad = Dockerfile.Parse("""
            FROM mcr.microsoft.com/dotnet/aspnet:latest
            COPY . /app
            RUN dotnet publish Nope/Nope.csproj -o /out
            ENTRYPOINT dotnet app.dll
            """);

        var violations = Violations(bad);

        Assert.Contains(violations, v => v.Contains("multi-stage"));
        Assert.Contains(violations, v => v.Contains("not pinned"));
        Assert.Contains(violations, v => v.Contains("USER"));
        Assert.Contains(violations, v => v.Contains("HEALTHCHECK"));
        Assert.Contains(violations, v => v.Contains("org.opencontainers.image.title"));
        Assert.Contains(violations, v => v.Contains("exec form"));
        Assert.Contains(violations, v => v.Contains("Nope/Nope.csproj"));
        Assert.Contains(violations, v => v.Contains("noble"));
    }

    /// <summary>Each broken rule, in words; none for a good Dockerfile.</summary>
    private static List<string> Violations(Dockerfile file)
    {
        var violations = new List<string>();
        var froms = file.Stages.Select(s => s.From).ToList();
        if (froms.Count < 2) violations.Add("not multi-stage: the SDK must stay out of the runtime image");
        foreach (var from in froms)
        {
            // An exact version (10.0.12-noble) or a digest; never latest or a floating major.minor.
            if (!PinnedImage().IsMatch(from)) violations.Add($"base image '{from}' is not pinned to an exact version or digest");
        }
        var final = file.Stages.LastOrDefault();
        if (final is null) return violations;
        // Ubuntu 24.04: libstdc++ with GLIBCXX_3.4.32 (TorchSharp), nothing to upgrade on the host's behalf.
        if (!final.From.Contains("-noble")) violations.Add($"runtime image '{final.From}' is not Ubuntu 24.04 (noble)");

        var user = final.Last("USER");
        if (user is null) violations.Add("no USER in the runtime stage: it would run as root");
        else if (!Regex.IsMatch(user, @"^[1-9]\d*(:[1-9]\d*)?$")) violations.Add($"USER '{user}' is not a numeric non-root uid (runAsNonRoot cannot check names)");

        var health = final.Last("HEALTHCHECK");
        if (health is null || health.StartsWith("NONE", StringComparison.OrdinalIgnoreCase) || !health.Contains("CMD"))
            violations.Add("no HEALTHCHECK with a command in the runtime stage");
        else if (health.Contains("probe.sh") && !final.All("COPY").Any(c => c.Contains("deploy/probe.sh")))
            violations.Add("HEALTHCHECK runs probe.sh but the stage does not copy deploy/probe.sh");

        var labels = string.Join(' ', final.All("LABEL"));
        foreach (var key in new[] { "title", "description", "version", "revision", "source" })
        {
            if (!labels.Contains($"org.opencontainers.image.{key}=")) violations.Add($"no org.opencontainers.image.{key} label");
        }

        var entry = final.Last("ENTRYPOINT");
        if (entry is null || !entry.StartsWith('[')) violations.Add("ENTRYPOINT is not in exec form: signals would not reach dotnet, and shutdown would not be graceful");
        if (!final.All("COPY").Any(c => c.Contains("--from="))) violations.Add("the runtime stage copies nothing from a build stage");

        foreach (var run in file.Stages.SelectMany(s => s.All("RUN")))
        {
            foreach (Match project in Regex.Matches(run, @"dotnet publish (\S+\.csproj)"))
            {
                if (!File.Exists(Path.Combine(RepositoryPaths.Root, project.Groups[1].Value)))
                    violations.Add($"publishes {project.Groups[1].Value}, which does not exist");
                if (!run.Contains("-c Release")) violations.Add($"publishes {project.Groups[1].Value} without -c Release");
            }
        }
        return violations;
    }

    [GeneratedRegex(@"^[^\s:@]+(:\d+\.\d+\.\d+(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})(\s+AS\s+\S+)?$", RegexOptions.IgnoreCase)]
    private static partial Regex PinnedImage();

    /// <summary>A Dockerfile as stages of (instruction, arguments), continuation lines joined and comments dropped.</summary>
    private sealed record Dockerfile(List<Stage> Stages)
    {
        public static Dockerfile Parse(string text)
        {
            var stages = new List<Stage>();
            var logical = new List<string>();
            var current = "";
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.TrimStart().StartsWith('#') && current.Length == 0) continue;
                if (line.EndsWith('\\')) { current += line[..^1] + " "; continue; }
                current += line;
                if (current.Trim().Length > 0) logical.Add(current.Trim());
                current = "";
            }
            foreach (var line in logical)
            {
                var space = line.IndexOf(' ');
                var instruction = (space < 0 ? line : line[..space]).ToUpperInvariant();
                var arguments = space < 0 ? "" : line[(space + 1)..].Trim();
                if (instruction == "FROM") stages.Add(new Stage(arguments, []));
                else if (stages.Count > 0) stages[^1].Instructions.Add((instruction, arguments));
                else if (instruction != "ARG") stages.Add(new Stage("(none)", [(instruction, arguments)]));
            }
            return new Dockerfile(stages);
        }
    }

    private sealed record Stage(string From, List<(string Instruction, string Arguments)> Instructions)
    {
        public string? Last(string instruction) => Instructions.LastOrDefault(i => i.Instruction == instruction).Arguments;

        public IEnumerable<string> All(string instruction) => Instructions.Where(i => i.Instruction == instruction).Select(i => i.Arguments);
    }
}
