namespace Huginn.Api.Access;

/// <summary>Endpoint filter: 401 without a valid key; the caller is then available as <c>context.Items[Caller]</c>.</summary>
public sealed class CallerFilter(Authenticator authenticator, bool accountsOnly) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var (caller, refusal) = await authenticator.AuthenticateAsync(context.HttpContext);
        if (caller is null) return refusal;
        if (accountsOnly && caller.IsDevice) return Problems.Forbidden("a device token cannot call account endpoints");
        context.HttpContext.Items[typeof(Caller)] = caller;
        return await next(context);
    }
}

public static class CallerExtensions
{
    public static Caller Caller(this HttpContext context) => (Caller)context.Items[typeof(Caller)]!;

    /// <summary>Requires an account key (not a device token) on every endpoint of the group.</summary>
    public static RouteGroupBuilder RequireAccount(this RouteGroupBuilder group) =>
        group.WithMetadata(new Hosting.CallerRequirement(AccountsOnly: true)).AddEndpointFilterFactory((factory, next) =>
        {
            var filter = new CallerFilter(factory.ApplicationServices.GetRequiredService<Authenticator>(), accountsOnly: true);
            return context => filter.InvokeAsync(context, next);
        });

    /// <summary>Accepts an account key or a device token.</summary>
    public static RouteGroupBuilder RequireCaller(this RouteGroupBuilder group) =>
        group.WithMetadata(new Hosting.CallerRequirement(AccountsOnly: false)).AddEndpointFilterFactory((factory, next) =>
        {
            var filter = new CallerFilter(factory.ApplicationServices.GetRequiredService<Authenticator>(), accountsOnly: false);
            return context => filter.InvokeAsync(context, next);
        });
}
