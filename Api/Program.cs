using Huginn.Api.Hosting;
using Huginn.Blobs;

// The public edge: clients over HTTP, workers over WebSocket; an Orleans client of the silo(s).
var builder = WebApplication.CreateBuilder(args);
builder.AddHuginnClusterClient();
// Blobs: the silo runs in its own process, so by default both open one folder (Huginn:Blobs, docs/OPERATIONS.md).
builder.Services.AddHuginnBlobStore(builder.Configuration, fallback: BlobStores.Directory);
builder.Services.AddHuginnApi(builder.Configuration);

var app = builder.Build();
app.MapHuginnApi();
app.Run();
