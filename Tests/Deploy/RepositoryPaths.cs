namespace Huginn.Tests.Deploy;

/// <summary>Where the repository's deploy/ files are, from the test assembly's folder up to the solution.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Deploy => Path.Combine(Root, "deploy");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Huginn.Orleans.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no Huginn.Orleans.sln above {AppContext.BaseDirectory}");
    }
}
