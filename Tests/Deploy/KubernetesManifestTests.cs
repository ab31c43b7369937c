using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Hosting.Kubernetes;

namespace Huginn.Tests.Deploy;

/// <summary>
/// deploy/k8s without a cluster: each overlay rendered by kustomize, parsed strictly by the Kubernetes client's own
/// models (an unknown or misspelt field fails), and held to the deployment's rules.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    public static TheoryData<string> Overlays => new() { "dev", "prod" };

    private const string SiloName = "huginn-silo";
    private const string ApiName = "huginn-api";

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Overlay_renders_and_parses_strictly_into_the_expected_objects(string overlay)
    {
        var objects = Render(overlay);

        var kinds = objects.Select(o => $"{o.Kind}/{o.Name()}").Order().ToArray();
        var expected = new List<string>
        {
            "Deployment/huginn-api", "Deployment/huginn-silo", "HorizontalPodAutoscaler/huginn-api", "Ingress/huginn-api",
            "Job/huginn-migrate", "NetworkPolicy/huginn-api", "NetworkPolicy/huginn-default-deny-ingress", "NetworkPolicy/huginn-silo",
            "PodDisruptionBudget/huginn-api", "PodDisruptionBudget/huginn-silo", "Role/huginn-silo", "RoleBinding/huginn-silo",
            "Service/huginn-api", "ServiceAccount/huginn-silo",
        };
        if (overlay == "dev") expected.AddRange(["NetworkPolicy/huginn-postgres", "Service/huginn-postgres", "StatefulSet/huginn-postgres"]);
        Assert.Equal(expected.Order().ToArray(), kinds);
        Assert.All(objects, o => Assert.Equal(overlay == "dev" ? "huginn-dev" : "huginn", o.Namespace()));
    }

    [Fact]
    public void Strict_parsing_rejects_a_misspelt_field()
    {
        const string yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: x
            spec:
              replicaz: 3
            """;
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(yaml, strict: true));
        Assert.Single(KubernetesYaml.LoadAllFromString(yaml, strict: false)); // the same text passes when not strict
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_selector_matches_the_pods_it_is_meant_for(string overlay)
    {
        var objects = Render(overlay);
        var pods = Workloads(objects).ToDictionary(w => w.Name, w => w.Template.Metadata.Labels);

        foreach (var (name, selector, template) in Workloads(objects).Where(w => w.Selector is not null).Select(w => (w.Name, w.Selector!, w.Template)))
            Assert.True(Matches(selector, template.Metadata.Labels), $"{name}'s selector does not match its own pod template");
        foreach (var service in objects.OfType<V1Service>())
            Assert.True(pods.Values.Any(labels => Matches(service.Spec.Selector, labels)), $"Service {service.Name()} selects no pods");
        foreach (var pdb in objects.OfType<V1PodDisruptionBudget>())
        {
            Assert.True(Matches(pdb.Spec.Selector.MatchLabels, pods[pdb.Name()]), $"PDB {pdb.Name()} does not select its Deployment's pods");
            Assert.Equal("1", pdb.Spec.MaxUnavailable?.Value);
        }
        foreach (var policy in objects.OfType<V1NetworkPolicy>().Where(p => p.Spec.PodSelector.MatchLabels is { Count: > 0 }))
            Assert.True(pods.Values.Any(labels => Matches(policy.Spec.PodSelector.MatchLabels, labels)), $"NetworkPolicy {policy.Name()} selects no pods");
        var hpa = objects.OfType<V2HorizontalPodAutoscaler>().Single();
        Assert.Equal(("Deployment", ApiName), (hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Silos_carry_what_Orleans_Kubernetes_hosting_reads(string overlay)
    {
        var silo = Deployment(Render(overlay), SiloName);
        var labels = silo.Spec.Template.Metadata.Labels;
        var container = silo.Spec.Template.Spec.Containers.Single();
        var env = container.Env.ToList();

        Assert.Equal("huginn", labels["orleans/serviceId"]); // Huginn's fixed ServiceId: it keys the data
        Assert.False(string.IsNullOrEmpty(labels["orleans/clusterId"]));
        Assert.Equal("huginn", silo.Spec.Selector.MatchLabels["orleans/serviceId"]);
        Assert.Equal("metadata.name", FieldRef(env, "POD_NAME"));
        Assert.Equal("metadata.namespace", FieldRef(env, "POD_NAMESPACE"));
        Assert.Equal("status.podIP", FieldRef(env, "POD_IP"));
        Assert.Equal("metadata.labels['orleans/serviceId']", FieldRef(env, "ORLEANS_SERVICE_ID"));
        Assert.Equal("metadata.labels['orleans/clusterId']", FieldRef(env, "ORLEANS_CLUSTER_ID"));
        Assert.Equal("true", Value(env, "Huginn__Kubernetes"));
        Assert.Equal("postgres", Value(env, "Huginn__Storage"));
        // $(VAR) expands only from variables defined earlier in the list.
        Assert.Equal("$(POD_IP)", Value(env, "Huginn__AdvertisedIP"));
        Assert.True(IndexOf(env, "POD_IP") < IndexOf(env, "Huginn__AdvertisedIP"));
        Assert.Equal("$(ORLEANS_CLUSTER_ID)", Value(env, "Huginn__ClusterId"));
        Assert.True(IndexOf(env, "ORLEANS_CLUSTER_ID") < IndexOf(env, "Huginn__ClusterId"));

        var ports = container.Ports.ToDictionary(p => p.Name, p => p.ContainerPort);
        Assert.Equal(11111, ports["silo"]);
        Assert.Equal(30000, ports["gateway"]);
        Assert.Equal("11111", Value(env, "Huginn__SiloPort"));
        Assert.Equal("30000", Value(env, "Huginn__GatewayPort"));
        Assert.Equal(ports["health"].ToString(), Value(env, "Huginn__Health__Port"));
        Assert.Equal(ports["metrics"].ToString(), Value(env, "Huginn__Metrics__Port"));
        Assert.Equal(ports["metrics"].ToString(), silo.Spec.Template.Metadata.Annotations["prometheus.io/port"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Silos_roll_one_at_a_time_with_split_probes_and_a_shutdown_longer_than_Orleans_own(string overlay)
    {
        var silo = Deployment(Render(overlay), SiloName);
        var pod = silo.Spec.Template.Spec;
        var container = pod.Containers.Single();

        Assert.Equal("RollingUpdate", silo.Spec.Strategy.Type);
        Assert.Equal("0", silo.Spec.Strategy.RollingUpdate.MaxUnavailable?.Value);
        Assert.True(silo.Spec.Replicas >= 2, "one silo is no cluster: a rolling update would have nobody to take its grains");

        Assert.NotNull(container.StartupProbe);
        Assert.Equal("/healthz/live", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/healthz/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("health", container.LivenessProbe.HttpGet.Port.Value);
        // Start-up may take migrations and joining: the startup probe allows minutes before liveness counts.
        Assert.True(container.StartupProbe.PeriodSeconds * container.StartupProbe.FailureThreshold >= 120);

        var shutdown = int.Parse(Value(container.Env.ToList(), "DOTNET_shutdownTimeoutSeconds"));
        Assert.True(pod.TerminationGracePeriodSeconds > shutdown + 10,
            $"terminationGracePeriodSeconds {pod.TerminationGracePeriodSeconds} leaves no margin over the silo's {shutdown} s shutdown");
        Assert.True(shutdown > 30, "the silo's shutdown budget is no longer than .NET's default 30 s");
    }

    [Fact]
    public void The_shutdown_variable_the_manifests_set_is_the_one_the_generic_host_reads()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["shutdownTimeoutSeconds"] = "90" });
        using var host = builder.Build();
        Assert.Equal(TimeSpan.FromSeconds(90), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Silo_role_grants_exactly_what_the_hosting_package_uses(string overlay)
    {
        var objects = Render(overlay);
        var silo = Deployment(objects, SiloName);
        var binding = objects.OfType<V1RoleBinding>().Single();
        var role = objects.OfType<V1Role>().Single();

        Assert.Equal(SiloName, silo.Spec.Template.Spec.ServiceAccountName);
        Assert.Contains(binding.Subjects, s => s.Kind == "ServiceAccount" && s.Name == SiloName);
        Assert.Equal(("Role", role.Name()), (binding.RoleRef.Kind, binding.RoleRef.Name));
        var rule = Assert.Single(role.Rules);
        Assert.Equal([""], rule.ApiGroups);
        Assert.Equal(["pods"], rule.Resources);
        Assert.Equal(["get", "list", "patch", "watch"], rule.Verbs.Order());
        Assert.DoesNotContain(objects, o => o.Kind is "ClusterRole" or "ClusterRoleBinding");
        // Every other pod runs without an API token.
        foreach (var workload in Workloads(objects).Where(w => w.Name != SiloName))
            Assert.False(workload.Template.Spec.AutomountServiceAccountToken ?? true, $"{workload.Name} mounts a service account token it does not need");
    }

    [Fact]
    public void Hosting_package_deletes_no_pods_by_default_so_the_role_has_no_delete_verb()
    {
        Assert.False(new KubernetesHostingOptions().DeleteDefunctSiloPods);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Api_reaches_the_silos_cluster_takes_its_operator_key_from_a_secret_and_scales(string overlay)
    {
        var objects = Render(overlay);
        var api = Deployment(objects, ApiName);
        var silo = Deployment(objects, SiloName);
        var container = api.Spec.Template.Spec.Containers.Single();
        var env = container.Env.ToList();

        Assert.Equal(silo.Spec.Template.Metadata.Labels["orleans/clusterId"], Value(env, "Huginn__ClusterId"));
        Assert.Equal("postgres", Value(env, "Huginn__Storage"));
        var key = env.Single(e => e.Name == "Huginn__Api__OperatorKey").ValueFrom.SecretKeyRef;
        Assert.Equal(("huginn-api", "operator-key"), (key.Name, key.Key));
        Assert.Equal("/healthz/live", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/healthz/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("0", api.Spec.Strategy.RollingUpdate.MaxUnavailable?.Value);
        Assert.NotNull(container.Resources.Requests["cpu"]); // the HPA's utilisation is relative to it
        var hpa = objects.OfType<V2HorizontalPodAutoscaler>().Single();
        Assert.True(hpa.Spec.MaxReplicas > hpa.Spec.MinReplicas);
        if (overlay == "prod")
        {
            Assert.True(hpa.Spec.MinReplicas >= 2);
            Assert.Equal("true", Value(env, "Huginn__Api__RegistrationRequiresOperator"));
            Assert.Equal("false", Value(env, "Huginn__Api__OpenCredits"));
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Ingress_keeps_worker_sockets_open_and_routes_neither_metrics_nor_health(string overlay)
    {
        var ingress = Render(overlay).OfType<V1Ingress>().Single();
        var annotations = ingress.Metadata.Annotations;

        Assert.True(int.Parse(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600);
        Assert.True(int.Parse(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600);
        var paths = ingress.Spec.Rules.SelectMany(r => r.Http.Paths).ToList();
        Assert.Contains(paths, p => p.Path == "/v1"); // the API and /v1/workers/connect
        Assert.All(paths, p =>
        {
            Assert.NotEqual("/", p.Path);
            Assert.False(p.Path.StartsWith("/metrics") || p.Path.StartsWith("/healthz"), $"{p.Path} is routed from outside");
            Assert.Equal(ApiName, p.Backend.Service.Name);
        });
        if (overlay == "prod") Assert.NotEmpty(ingress.Spec.Tls);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Network_policies_let_only_silos_and_the_Api_reach_silo_ports_and_PostgreSQL(string overlay)
    {
        var policies = Render(overlay).OfType<V1NetworkPolicy>().ToDictionary(p => p.Name());

        var deny = policies["huginn-default-deny-ingress"];
        Assert.Empty(deny.Spec.PodSelector.MatchLabels ?? new Dictionary<string, string>());
        Assert.Equal(["Ingress"], deny.Spec.PolicyTypes);
        Assert.Null(deny.Spec.Ingress);

        var silo = policies["huginn-silo"];
        Assert.Equal(["huginn-silo"], Sources(silo, 11111));
        Assert.Equal(["huginn-api", "huginn-silo"], Sources(silo, 30000));
        // No rule leaves a port open to everyone.
        foreach (var policy in policies.Values.Where(p => p.Spec.Ingress is not null))
            Assert.All(policy.Spec.Ingress, rule => Assert.NotEmpty(rule.FromProperty ?? []));
        if (overlay == "dev")
            Assert.Equal(["huginn-api", "huginn-migrate", "huginn-silo"], Sources(policies["huginn-postgres"], 5432));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Images_are_pinned_and_secrets_are_never_inline(string overlay)
    {
        var objects = Render(overlay);
        Assert.DoesNotContain(objects, o => o.Kind == "Secret");
        foreach (var workload in Workloads(objects))
        {
            var pod = workload.Template.Spec;
            Assert.True(pod.SecurityContext?.RunAsNonRoot == true, $"{workload.Name} may run as root");
            foreach (var container in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                Assert.Matches(overlay == "prod" ? ReleaseImage() : TaggedImage(), container.Image);
                Assert.DoesNotContain(":latest", container.Image);
                Assert.NotNull(container.Resources?.Requests);
                Assert.NotNull(container.Resources?.Limits);
                Assert.True(container.SecurityContext?.AllowPrivilegeEscalation == false, $"{workload.Name}/{container.Name} may escalate");
                foreach (var variable in container.Env ?? [])
                {
                    if (SecretName().IsMatch(variable.Name))
                        Assert.True(variable.ValueFrom?.SecretKeyRef is not null, $"{workload.Name}: {variable.Name} is not from a Secret");
                }
            }
        }
        var migrate = objects.OfType<V1Job>().Single().Spec.Template.Spec.Containers.Single();
        Assert.Equal(["migrate"], migrate.Args);
        Assert.Equal(Deployment(objects, SiloName).Spec.Template.Spec.Containers.Single().Image, migrate.Image);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Dev_brings_its_own_PostgreSQL_on_a_volume_and_prod_expects_an_external_one(string overlay)
    {
        var objects = Render(overlay);
        var postgres = objects.OfType<V1StatefulSet>().ToList();
        if (overlay == "prod")
        {
            Assert.Empty(postgres);
            return;
        }
        var statefulSet = Assert.Single(postgres);
        var claim = Assert.Single(statefulSet.Spec.VolumeClaimTemplates);
        Assert.Contains(statefulSet.Spec.Template.Spec.Containers.Single().VolumeMounts, m => m.Name == claim.Metadata.Name);
        var password = statefulSet.Spec.Template.Spec.Containers.Single().Env.Single(e => e.Name == "POSTGRES_PASSWORD");
        Assert.Equal("huginn-postgres", password.ValueFrom.SecretKeyRef.Name);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static List<IKubernetesObject<V1ObjectMeta>> Render(string overlay) => Kustomization.Render(overlay);

    private sealed record Workload(string Name, IDictionary<string, string>? Selector, V1PodTemplateSpec Template);

    private static IEnumerable<Workload> Workloads(IEnumerable<IKubernetesObject<V1ObjectMeta>> objects) => objects.Select(o => o switch
    {
        V1Deployment d => new Workload(d.Name(), d.Spec.Selector.MatchLabels, d.Spec.Template),
        V1StatefulSet s => new Workload(s.Name(), s.Spec.Selector.MatchLabels, s.Spec.Template),
        V1Job j => new Workload(j.Name(), null, j.Spec.Template),
        _ => null,
    }).OfType<Workload>();

    private static V1Deployment Deployment(IEnumerable<IKubernetesObject<V1ObjectMeta>> objects, string name) =>
        objects.OfType<V1Deployment>().Single(d => d.Name() == name);

    private static bool Matches(IDictionary<string, string> selector, IDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value);

    private static string? FieldRef(List<V1EnvVar> env, string name) => env.Single(e => e.Name == name).ValueFrom?.FieldRef?.FieldPath;

    private static string Value(List<V1EnvVar> env, string name) =>
        env.SingleOrDefault(e => e.Name == name)?.Value ?? throw new Xunit.Sdk.XunitException($"no {name} with a value");

    private static int IndexOf(List<V1EnvVar> env, string name) => env.FindIndex(e => e.Name == name);

    /// <summary>The app names of the pods a policy admits to a port (sorted).</summary>
    private static string[] Sources(V1NetworkPolicy policy, int port) => policy.Spec.Ingress
        .Where(rule => rule.Ports.Any(p => p.Port.Value == port.ToString()))
        .SelectMany(rule => rule.FromProperty)
        .Select(peer => peer.PodSelector?.MatchLabels?["app.kubernetes.io/name"] ?? "(not a pod selector)")
        .Order().ToArray();

    [GeneratedRegex(@"^[^\s:@]+(:[A-Za-z0-9][\w.-]*)(@sha256:[0-9a-f]{64})?$|^[^\s:@]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex TaggedImage();

    // Production: a release version or a digest, never a moving name such as dev or stable.
    [GeneratedRegex(@"^[^\s@]+:(v?\d+\.\d+\.\d+[\w.-]*|[\w.-]+@sha256:[0-9a-f]{64})$|^[^\s:@]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex ReleaseImage();

    [GeneratedRegex("(?i)(password|secret|operatorkey|connectionstrings|token)")]
    private static partial Regex SecretName();
}
