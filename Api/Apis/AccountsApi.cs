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
public sealed record AccountCreditedResponse(string AccountId, decimal BalanceHu);

public static class AccountsApi
{
    public static readonly string[] Roles = ["client", "contributor", "operator"];

    public static RouteGroupBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var open = app.MapGroup("/v1/accounts").WithTags("Accounts");
        open.MapPost("/", CreateAsync).WithName("CreateAccount")
            .WithSummary("Creates an account (client or contributor; operator only with the operator key) and shows its API key once.")
            .WithMetadata(new OptionalBearer()).Produces<CreateAccountResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status403Forbidden)
            .WithRequestExample("""{ "name": "alice", "role": "client" }""");
        open.MapPost("/{accountId}/credits", OperatorCreditAsync).WithName("CreditAccount")
            .WithSummary("Operator: credits HU to any account (how purchases land in production).")
            .WithMetadata(new CallerRequirement(AccountsOnly: true)).Produces<AccountCreditedResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithRequestExample("""{ "hu": 100 }""");

        var me = app.MapGroup("/v1/accounts/me").WithTags("Accounts").RequireAccount();
        me.MapGet("/", GetAsync).WithName("GetAccount").WithSummary("The caller's balances in HU.").Produces<AccountResponse>();
        me.MapPost("/credits", CreditAsync).WithName("BuyCredits").WithSummary("Buys HU (mints them in the local default).")
            .Produces<AccountResponse>().ProducesProblem(StatusCodes.Status409Conflict).WithRequestExample("""{ "hu": 10 }""");
        me.MapPost("/keys/rotate", RotateKeyAsync).WithName("RotateApiKey")
            .WithSummary("Issues a new API key for the account and revokes the key this request was made with; the new key is shown once.")
            .Produces<CreateAccountResponse>();
        me.MapDelete("/keys/current", RevokeKeyAsync).WithName("RevokeApiKey")
            .WithSummary("Revokes the API key this request was made with; other keys of the account stay valid.")
            .Produces(StatusCodes.Status204NoContent);
        return me;
    }

    private static async Task<IResult> CreateAsync(CreateAccountRequest request, HttpContext context, IGrainFactory grains,
        OperatorCheck operatorCheck, IOptions<ApiOptions> options)
    {
        // A wrong key counts as a failed authentication only where nothing but the operator's key opens the door.
        var access = operatorCheck.Check(context, countFailure: options.Value.RegistrationRequiresOperator || request.Role == "operator");
        if (access == OperatorAccess.Throttled) return operatorCheck.RefusalFor(context, access, "")!;
        var isOperator = access == OperatorAccess.Operator;
        if (options.Value.RegistrationRequiresOperator && !isOperator)
            return Problems.Forbidden("accounts are created by the operator in this deployment");
        var errors = new List<SpecError>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100) errors.Add(new("name", "must be 1 to 100 characters"));
        if (request.Role is null || !Roles.Contains(request.Role)) errors.Add(new("role", "must be 'client' or 'contributor'"));
        if (errors.Count > 0) return Problems.Invalid(errors);
        if (request.Role == "operator" && !isOperator) return Problems.Forbidden("only the operator creates operator accounts");

        var accountId = $"acct_{Guid.NewGuid():N}";
        var kind = request.Role switch
        {
            "client" => AccountKind.Client,
            "contributor" => AccountKind.Contributor,
            _ => AccountKind.System,
        };
        await grains.GetGrain<IAccountGrain>(accountId).OpenAsync(kind);
        var apiKey = Credentials.NewSecret(CredentialKind.ApiKey);
        await grains.GetGrain<ICredentialGrain>(Credentials.GrainKey(CredentialKind.ApiKey, apiKey))
            .IssueAsync(new Credential(CredentialKind.ApiKey, accountId, request.Role!, null));
        return Results.Created($"/v1/accounts/me", new CreateAccountResponse(accountId, apiKey));
    }

    private static async Task<IResult> RotateKeyAsync(HttpContext context, IGrainFactory grains)
    {
        var caller = context.Caller();
        // The new key exists before the old one dies: a rotation never leaves the account without a key.
        var apiKey = Credentials.NewSecret(CredentialKind.ApiKey);
        await grains.GetGrain<ICredentialGrain>(Credentials.GrainKey(CredentialKind.ApiKey, apiKey)).IssueAsync(caller.Credential);
        await grains.GetGrain<ICredentialGrain>(Credentials.GrainKey(CredentialKind.ApiKey, Authenticator.SecretOf(context)!)).RevokeAsync();
        return Results.Ok(new CreateAccountResponse(caller.AccountId, apiKey));
    }

    private static async Task<IResult> RevokeKeyAsync(HttpContext context, IGrainFactory grains)
    {
        await grains.GetGrain<ICredentialGrain>(Credentials.GrainKey(CredentialKind.ApiKey, Authenticator.SecretOf(context)!)).RevokeAsync();
        return Results.NoContent();
    }

    private static async Task<IResult> GetAsync(HttpContext context, IGrainFactory grains) =>
        Results.Ok(await DescribeAsync(context.Caller(), grains));

    private static async Task<IResult> CreditAsync(CreditRequest request, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        if (!options.Value.OpenCredits) return Problems.Forbidden("buying HU goes through the operator in this deployment");
        var caller = context.Caller();
        var refused = await MintAsync(caller.AccountId, request.Hu, grains);
        return refused ?? Results.Ok(await DescribeAsync(caller, grains));
    }

    private static async Task<IResult> OperatorCreditAsync(string accountId, CreditRequest request, HttpContext context, IGrainFactory grains, OperatorCheck operatorCheck)
    {
        if (operatorCheck.RefusalFor(context, operatorCheck.Check(context, countFailure: true), "only the operator credits other accounts") is { } refusal)
            return refusal;
        var account = await grains.GetGrain<IAccountGrain>(accountId).GetAsync();
        if (!account.Opened || account.Kind is not (AccountKind.Client or AccountKind.Contributor)) return Problems.NotFound("account");
        var refused = await MintAsync(accountId, request.Hu, grains);
        return refused ?? Results.Ok(new AccountCreditedResponse(accountId, MicroHu.ToHu((await grains.GetGrain<IAccountGrain>(accountId).GetAsync()).AvailableMicroHu)));
    }

    /// <summary>Mints HU into an account; null when done, else the problem to answer.</summary>
    private static async Task<IResult?> MintAsync(string accountId, decimal hu, IGrainFactory grains)
    {
        if (hu < 0.000001m || hu > 1_000_000) return Problems.Invalid("hu", "must be from 0.000001 (one micro-HU) to 1,000,000");
        var outcome = await grains.GetGrain<IAccountGrain>(SystemAccounts.Mint).TransferAsync(new Transfer
        {
            TransferId = $"mint:{accountId}:{Guid.NewGuid():N}",
            From = SystemAccounts.Mint,
            To = accountId,
            AmountMicroHu = MicroHu.FromHu(hu),
            Kind = TransferKind.Mint,
        });
        return outcome == TransferOutcome.Applied ? null : Problems.Conflict($"credit refused: {outcome}");
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
