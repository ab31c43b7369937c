using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Huginn.Tests.Deploy;

/// <summary>deploy/k8s overlays rendered by kustomize and parsed strictly (unknown fields fail), once per test run.</summary>
internal static class Kustomization
{
    private static readonly Dictionary<string, List<IKubernetesObject<V1ObjectMeta>>> Rendered = [];

    /// <summary>kustomize build (or kubectl kustomize) of an overlay, parsed strictly; cached per overlay.</summary>
    public static List<IKubernetesObject<V1ObjectMeta>> Render(string overlay)
    {
        lock (Rendered)
        {
            if (Rendered.TryGetValue(overlay, out var cached)) return cached;
            var yaml = Kustomize(Path.Combine(RepositoryPaths.Deploy, "k8s", "overlays", overlay));
            var objects = KubernetesYaml.LoadAllFromString(yaml, strict: true).Cast<IKubernetesObject<V1ObjectMeta>>().ToList();
            Rendered[overlay] = objects;
            return objects;
        }
    }

    private static string Kustomize(string directory)
    {
        // Debian's kustomize (trixie; .ci/run installs it) or the one built into kubectl. Neither: a failure that says so.
        foreach (var (file, args) in new[] { ("kustomize", new[] { "build", directory }), ("kubectl", new[] { "kustomize", directory }) })
        {
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in args) start.ArgumentList.Add(arg);
            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                continue; // not installed: try the next
            }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {stderr.Result}");
                return stdout.Result;
            }
        }
        throw new InvalidOperationException("neither kustomize nor kubectl is installed: apt-get install -y kustomize (Debian trixie), as .ci/run does");
    }
}
