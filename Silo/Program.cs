using Huginn.Blobs;
using Huginn.Silo.Hosting;
using Microsoft.Extensions.Hosting;

// Local default: one silo on localhost, in-memory state and streams. Huginn:Storage=postgres moves
// clustering, state, reminders and streams to PostgreSQL (docs/OPERATIONS.md).
var builder = Host.CreateApplicationBuilder(args);
// `Huginn.Silo migrate`: the schema alone, then exit (the Kubernetes migrations Job, docs/OPERATIONS.md).
if (args is ["migrate", ..]) return await SiloOperationsExtensions.MigrateAsync(builder.Configuration);
// Health and metrics listeners and Kubernetes hosting, each only when configured (deploy/k8s sets them).
builder.Services.AddHuginnSiloOperations(builder.Configuration);
// Blobs: the Api runs in its own process, so by default both open one folder (Huginn:Blobs, docs/OPERATIONS.md).
builder.Services.AddHuginnBlobStore(builder.Configuration, fallback: BlobStores.Directory);
builder.UseOrleans(silo =>
{
    silo.UseHuginnClustering(builder.Configuration);
    silo.UseHuginnKubernetesHosting(builder.Configuration);
    silo.AddHuginnSilo(builder.Configuration);
});
await builder.Build().RunAsync();
return 0;
