using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Hosting;

/// <summary>
/// The contributor page at <c>/contribute</c>: the bundle web/ builds (<c>npm run build</c> into web/dist), served as
/// static files with everything it needs (TF.js and its WASM binaries included; nothing from elsewhere). Its folder is
/// <see cref="ApiOptions.WebRoot"/>, else web/dist found above the app; without a bundle the page answers 503 naming
/// the build command.
/// </summary>
public static class ContributePage
{
    public const string Path = "/contribute";

    /// <summary>
    /// What the page needs and nothing more: its own scripts, WebAssembly compilation (TF.js's WASM backend), its own
    /// module worker, fetch and WebSocket to this origin only (CSP 3's 'self' covers ws/wss of the same host).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'; " +
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The bundle's folder, or null when none is built: the configured one, else web/dist above the app.</summary>
    public static string? FindBundle(ApiOptions options, string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(options.WebRoot))
        {
            var configured = System.IO.Path.GetFullPath(options.WebRoot, contentRoot);
            return File.Exists(System.IO.Path.Combine(configured, "index.html")) ? configured : null;
        }
        foreach (var start in new[] { AppContext.BaseDirectory, contentRoot })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = System.IO.Path.Combine(dir.FullName, "web", "dist");
                if (File.Exists(System.IO.Path.Combine(candidate, "index.html"))) return candidate;
            }
        }
        return null;
    }

    public static WebApplication MapContributePage(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
        var bundle = FindBundle(options, app.Environment.ContentRootPath);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(Path))
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                // A new bundle is picked up at once: the browser revalidates rather than running an old worker.
                headers.CacheControl = "no-cache";
                // The page's relative URLs need the folder's slash. A middleware, not an endpoint: routing ignores a
                // trailing slash, so a "/contribute" endpoint would also catch "/contribute/" and redirect it forever.
                if (context.Request.Path.Value == Path)
                {
                    context.Response.Redirect($"{Path}/{context.Request.QueryString}");
                    return;
                }
            }
            await next(context);
        });
        // Whether the page may honour ?testFault= (the end-to-end test's cheater); never on in a real deployment.
        app.MapGet($"{Path}/settings.json", () => Results.Json(new { testFaults = options.TestFaults })).ExcludeFromDescription();
        if (bundle is null)
        {
            app.MapGet($"{Path}/{{**rest}}", () => Results.Content(MissingBundleHtml, "text/html; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable))
                .ExcludeFromDescription();
            return app;
        }
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".wasm"] = "application/wasm";
        types.Mappings[".map"] = "application/json";
        var files = new PhysicalFileProvider(bundle);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = Path, ContentTypeProvider = types });
        return app;
    }

    private const string MissingBundleHtml = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Huginn: page not built</title></head><body>
        <h1>The contributor page is not built</h1>
        <p>This Api found no bundle for <code>/contribute</code>. Build it with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>
        (it lands in <code>web/dist</code>), or point <code>Huginn:Api:WebRoot</code> at a built bundle, then restart the Api.</p>
        </body></html>
        """;
}
