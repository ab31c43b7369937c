using Huginn.Api.Access;
using Huginn.Api.Hosting;
using Huginn.Grains.Interfaces.Access;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Apis;

public sealed record CreateAccountRequest(string? Name, string? Role);
public sealed record CreateAccountResponse(string AccountId, string ApiKey);
public sealed record AccountResponse(string AccountId, string Role, decimal BalanceHu, decimal EscrowHu, decimal PendingHu, decimal EarnedHu);
public sealed record CreditRequest(decimal Hu);

public static class AccountsApi
{
    public static readonly string[] Roles = ["client", "contributor"];

    public static RouteGroupBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var open = app.MapGroup("/v1/accounts").WithTags("Accounts");
        open.MapPost("/", CreateAsync).WithName("CreateAccount").WithSummary("Creates an account and shows its API key once.");

        var me = app.MapGroup("/v1/accounts/me").WithTags("Accounts").RequireAccount();
        me.MapGet("/", GetAsync).WithName("GetAccount").WithSummary("The caller's balances in HU.");
        me.MapPost("/credits", CreditAsync).WithName("BuyCredits").WithSummary("Buys HU (mints them in the local default).");
        return me;
    }

    private static async Task<IResult> CreateAsync(CreateAccountRequest request, IGrainFactory grains)
    {
        var errors = new List<SpecError>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100) errors.Add(new("name", "must be 1 to 100 characters"));
        if (request.Role is null || !Roles.Contains(request.Role)) errors.Add(new("role", "must be 'client' or 'contributor'"));
        if (errors.Count > 0) return Problems.Invalid(errors);

        var accountId = $"acct_{Guid.NewGuid():N}";
        var kind = request.Role == "client" ? AccountKind.Client : AccountKind.Contributor;
        await grains.GetGrain<IAccountGrain>(accountId).OpenAsync(kind);
        var apiKey = Credentials.NewSecret(CredentialKind.ApiKey);
        await grains.GetGrain<ICredentialGrain>(Credentials.GrainKey(CredentialKind.ApiKey, apiKey))
            .IssueAsync(new Credential(CredentialKind.ApiKey, accountId, request.Role!, null));
        return Results.Created($"/v1/accounts/me", new CreateAccountResponse(accountId, apiKey));
    }

    private static async Task<IResult> GetAsync(HttpContext context, IGrainFactory grains) =>
        Results.Ok(await DescribeAsync(context.Caller(), grains));

    private static async Task<IResult> CreditAsync(CreditRequest request, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        if (!options.Value.OpenCredits) return Problems.Forbidden("buying HU goes through the operator in this deployment");
        if (request.Hu <= 0 || request.Hu > 1_000_000) return Problems.Invalid("hu", "must be more than 0 and at most 1,000,000");
        var caller = context.Caller();
        var outcome = await grains.GetGrain<IAccountGrain>(SystemAccounts.Mint).TransferAsync(new Transfer
        {
            TransferId = $"mint:{caller.AccountId}:{Guid.NewGuid():N}",
            From = SystemAccounts.Mint,
            To = caller.AccountId,
            AmountMicroHu = MicroHu.FromHu(request.Hu),
            Kind = TransferKind.Mint,
        });
        return outcome == TransferOutcome.Applied ? Results.Ok(await DescribeAsync(caller, grains)) : Problems.Conflict($"credit refused: {outcome}");
    }

    private static async Task<AccountResponse> DescribeAsync(Caller caller, IGrainFactory grains)
    {
        var account = await grains.GetGrain<IAccountGrain>(caller.AccountId).GetAsync();
        long escrow = 0;
        foreach (var escrowId in account.FundedEscrows)
            escrow += (await grains.GetGrain<IAccountGrain>(escrowId).GetAsync()).HoldingsMicroHu;
        return new AccountResponse(caller.AccountId, caller.Role, MicroHu.ToHu(account.AvailableMicroHu), MicroHu.ToHu(escrow),
            MicroHu.ToHu(account.PendingMicroHu), MicroHu.ToHu(account.EarnedMicroHu));
    }
}
