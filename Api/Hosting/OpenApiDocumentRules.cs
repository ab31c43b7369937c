using System.Text.Json.Nodes;
using Huginn.Api.Apis;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Protocol;
using Huginn.Workloads;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Huginn.Api.Hosting;

/// <summary>Endpoint metadata: who may call it. Set by RequireAccount/RequireCaller; absent means anonymous.</summary>
public sealed record CallerRequirement(bool AccountsOnly);

/// <summary>Endpoint metadata: a bearer key is optional and changes the answer (the operator's key on CreateAccount).</summary>
public sealed record OptionalBearer;

/// <summary>
/// What the OpenAPI document says beyond what ASP.NET infers, so that generated clients (openapi-typescript, Kiota) get
/// typed responses, errors, auth, headers and closed sets. Endpoints state their own success and problem statuses with
/// <c>.Produces&lt;T&gt;(status)</c> and <c>.ProducesProblem(status)</c>; the rules here add what every endpoint of a
/// kind shares (401/403 for authenticated endpoints, 429 for all, 503 where the cluster is called, 400/413/415 for JSON
/// bodies) and the document-wide parts (info, servers, security scheme, tags). Tests/Api/OpenApiContractTests holds
/// every operation to this.
/// </summary>
public static class OpenApiDocumentRules
{
    public const string BearerScheme = "bearer";
    public const string ProblemContentType = "application/problem+json";
    public const string Binary = "application/octet-stream";

    /// <summary>The tags in the order a reader meets them, each with what it groups.</summary>
    private static readonly (string Name, string Description)[] Tags =
    [
        ("Accounts", "Client and contributor accounts, their API keys and HU balances."),
        ("Devices", "A contributor's devices: registration, standing, earnings and device tokens."),
        ("Blobs", "Content-addressed bytes (SHA-256): datasets, weights and large results."),
        ("Jobs", "Price, submit, follow, download and cancel work."),
        ("Datasets", "Datasets of any size as manifests of content-addressed chunks: declare, upload chunks (resumable), finalize, list, delete."),
        ("Pool", "The pool as a whole: devices online, queue, price."),
        ("Operations", "Health probes and Prometheus metrics for the operator's tooling."),
    ];

    /// <summary>Closed sets of string fields, from the constants the validators check against.</summary>
    private static readonly Dictionary<(Type Type, string Property), string[]> ClosedSets = new()
    {
        [(typeof(CreateAccountRequest), "role")] = ["client", "contributor", "operator"],
        [(typeof(AccountResponse), "role")] = ["client", "contributor", "operator"],
        [(typeof(JobResponse), "state")] = ["queued", "running", "completed", "failed", "cancelled"],
        [(typeof(JobResponse), "kind")] = ["train", "infer", "prep"],
        [(typeof(DeviceResponse), "status")] = ["offline", "online", "banned"],
        [(typeof(DeviceCapabilitiesDto), "kind")] = [HardwareClass.Kind(DeviceKind.Gpu), HardwareClass.Kind(DeviceKind.Cpu), HardwareClass.Kind(DeviceKind.Browser)],
        [(typeof(JobSpec), "precision")] = [NumericPrecision.Fp32, NumericPrecision.Bf16],
        [(typeof(DatasetSpec), "format")] = [DatasetSpec.F32],
        [(typeof(ModelSpec), "type")] = [ModelSpec.Mlp, ModelSpec.Cnn, ModelSpec.Transformer],
        [(typeof(ModelSpec), "activation")] = [ModelSpec.Relu, ModelSpec.Tanh],
        [(typeof(ModelSpec), "loss")] = [ModelSpec.Mse, ModelSpec.CrossEntropy],
        [(typeof(SyntheticDatasetSpec), "kind")] = [SyntheticDatasetSpec.Teacher, SyntheticDatasetSpec.Blobs],
        [(typeof(PrepSpec), "operation")] = [PrepSpec.QuantizeInt8],
        [(typeof(HealthReportResponse), "status")] = ["ok", "unavailable"],
    };

    /// <summary>Fields whose meaning a generated client's user needs at hand.</summary>
    private static readonly Dictionary<(Type Type, string Property), string> Descriptions = new()
    {
        [(typeof(JobMetrics), "loss")] = "Each finished round's training loss over its verified shards, in round order; null (never NaN) for a round none of whose shards was audited.",
        [(typeof(JobSpec), "learningRate")] = "SGD learning rate (a JSON number).",
        [(typeof(SubmitJobRequest), "maxHu")] = "The most HU to escrow; the estimate when absent.",
    };

    /// <summary>The Api's OpenAPI document (served at /openapi/v1.json, committed as docs/openapi.json).</summary>
    public static IServiceCollection AddHuginnOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
            o.AddSchemaTransformer((schema, context, _) =>
            {
                ApplyClosedSets(schema, context);
                RequireWhatIsAlwaysWritten(schema, context);
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                ApplyCommonResponses(operation, context);
                return Task.CompletedTask;
            });
        });

    private static void Describe(OpenApiDocument document)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Huginn pool API",
            Version = "v1",
            Description = "Clients price, run, follow and download work; contributors register devices. Errors are RFC 9457 problem "
                + "details (application/problem+json) with stable titles; 400s list the fields at fault under `errors`. "
                + "See docs/ in the repository (docs/API.md, docs/OPENAPI.md).",
            License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
            Contact = new OpenApiContact { Name = "Huginn", Url = new Uri("https://github.com/huginn-pool/huginn") },
        };
        // A fixed server (the README's local default) rather than the request's host, so that the document is the same
        // wherever it is served and the committed copy can be compared; clients set their own base URL.
        document.Servers = [new OpenApiServer { Url = "http://127.0.0.1:5080", Description = "A local pool (README: dotnet run --project Api)." }];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            [BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An account's API key (hk_…) or, where the operation says so, a device token: 'Authorization: Bearer <secret>'.",
            },
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
        // Binary bodies are described inline (AcceptsBinary, ProducesBinary): the schema ASP.NET registers for Stream is unused.
        document.Components.Schemas?.Remove("Stream");
    }

    private static void ApplyClosedSets(OpenApiSchema schema, OpenApiSchemaTransformerContext context)
    {
        if (context.JsonPropertyInfo is not { } property) return;
        if (Descriptions.TryGetValue((property.DeclaringType, property.Name), out var description)) schema.Description = description;
        if (!ClosedSets.TryGetValue((property.DeclaringType, property.Name), out var values)) return;
        // Null is never written (nulls are omitted) and never accepted for these fields: a plain string with its values.
        schema.Type = JsonSchemaType.String;
        schema.Enum = values.Select(v => (JsonNode)JsonValue.Create(v)!).ToList();
    }

    /// <summary>
    /// A response record writes every property that is not null (nulls are omitted): those are required, so that generated
    /// clients type them as present. Request records are left alone: their fields have defaults.
    /// </summary>
    private static void RequireWhatIsAlwaysWritten(OpenApiSchema schema, OpenApiSchemaTransformerContext context)
    {
        if (context.JsonPropertyInfo is not null || schema.Properties is not { Count: > 0 } properties) return;
        // A field that may be null may be absent too (nulls are omitted when written, defaulted when read).
        if (schema.Required is { Count: > 0 } declared)
            foreach (var name in declared.Where(name => properties.TryGetValue(name, out var p) && MayBeNull(p)).ToList()) declared.Remove(name);
        var type = context.JsonTypeInfo.Type;
        if (!ResponseTypes.Contains(type) && !(type.Namespace == typeof(JobsApi).Namespace && type.Name.EndsWith("Response", StringComparison.Ordinal))) return;
        schema.Required = new HashSet<string>(properties.Where(p => !MayBeNull(p.Value)).Select(p => p.Key));
    }

    private static bool MayBeNull(IOpenApiSchema property) =>
        property is not OpenApiSchemaReference && (property.Type is not { } type || type.HasFlag(JsonSchemaType.Null) || property.OneOf is { Count: > 0 });

    /// <summary>Records written only in responses whose names do not end in Response.</summary>
    private static readonly HashSet<Type> ResponseTypes = [typeof(EstimateBreakdown), typeof(JobMetrics)];

    private static void ApplyCommonResponses(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var caller = metadata.OfType<CallerRequirement>().FirstOrDefault();
        var optionalBearer = metadata.OfType<OptionalBearer>().Any();
        operation.Responses ??= new OpenApiResponses();
        var document = context.Document;
        // The summaries are whole sentences: they are the description too (doc comments in generated clients).
        operation.Description ??= operation.Summary;

        if (caller is null && !optionalBearer) operation.Security = [];
        // Anonymous or with the key: both are valid calls.
        else if (optionalBearer) operation.Security = [new OpenApiSecurityRequirement(),
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];

        if (caller is not null) AddProblem(operation, 401, "No key, or the key is not valid (Authorization: Bearer <key>).");
        if (caller is { AccountsOnly: true }) AddProblem(operation, 403, "A device token called an account endpoint, or the account may not do this.");
        if (context.Description.ParameterDescriptions.Any(p => p.Source.Id == "Body") && operation.RequestBody?.Content?.ContainsKey("application/json") == true)
        {
            AddProblem(operation, 400, "The request is not valid: `errors` names each field and why.");
            AddProblem(operation, 413, $"The JSON body is over {ApiHostingExtensions.MaxJsonBodyBytes} bytes.");
            AddProblem(operation, 415, "The body is not application/json.");
        }
        AddProblem(operation, 429, "Too many requests (per key, else per address): see Retry-After.");
        if (context.Description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true)
            AddProblem(operation, 503, "The pool's cluster is failing over; retry in a few seconds.");
    }

    /// <summary>A problem-details response, unless the endpoint described that status itself.</summary>
    private static void AddProblem(OpenApiOperation operation, int status, string description)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key)) return;
        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemContentType] = new() { Schema = new OpenApiSchemaReference(status == 400 ? "HttpValidationProblemDetails" : "ProblemDetails") },
            },
        };
    }

    /// <summary>Documents a request header of the endpoint (e.g. Idempotency-Key on POST /v1/jobs).</summary>
    public static TBuilder WithHeader<TBuilder>(this TBuilder builder, string name, string description, string? example = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Header,
                Required = false,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 200 },
                Example = example is null ? null : JsonValue.Create(example),
            });
            return Task.CompletedTask;
        });

    /// <summary>Documents a raw binary request body (application/octet-stream), which the handler reads as a stream.</summary>
    public static TBuilder AcceptsBinary<TBuilder>(this TBuilder builder, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [Binary] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                },
            };
            return Task.CompletedTask;
        });

    /// <summary>Documents a binary success response (a download) with its headers.</summary>
    public static TBuilder ProducesBinary<TBuilder>(this TBuilder builder, string description, params (string Name, string Description)[] headers)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(Stream), [Binary]))
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                var ok = new OpenApiResponse
                {
                    Description = description,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [Binary] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                    },
                };
                if (headers.Length > 0)
                    ok.Headers = headers.ToDictionary(h => h.Name,
                        h => (IOpenApiHeader)new OpenApiHeader { Description = h.Description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
                operation.Responses ??= new OpenApiResponses();
                operation.Responses["200"] = ok;
                return Task.CompletedTask;
            });

    /// <summary>Restricts a query parameter to a closed set.</summary>
    public static TBuilder WithQueryValues<TBuilder>(this TBuilder builder, string name, params string[] values)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Parameters?.FirstOrDefault(p => p.Name == name && p.In == ParameterLocation.Query) is OpenApiParameter parameter)
                parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = values.Select(v => (JsonNode)JsonValue.Create(v)!).ToList(), Default = JsonValue.Create(values[0]) };
            return Task.CompletedTask;
        });

    /// <summary>An example request body (JSON) for the operation.</summary>
    public static TBuilder WithRequestExample<TBuilder>(this TBuilder builder, string json) where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true)
                media.Example = JsonNode.Parse(json);
            return Task.CompletedTask;
        });
}
