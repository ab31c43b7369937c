using Huginn.Silo.Hosting;
using Microsoft.Extensions.Hosting;

// Local default: one silo on localhost, in-memory state and streams. See README for the options.
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering();
    silo.AddHuginnSilo(builder.Configuration);
});
await builder.Build().RunAsync();
