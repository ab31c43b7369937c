using Huginn.Api.Hosting;

// The public edge: clients over HTTP, workers over WebSocket; an Orleans client of the silo(s).
var builder = WebApplication.CreateBuilder(args);
builder.AddHuginnClusterClient();
builder.Services.AddHuginnApi(builder.Configuration);

var app = builder.Build();
app.MapHuginnApi();
app.Run();
