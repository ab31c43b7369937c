using System.CommandLine;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Spectre.Console;

namespace Huginn.Cli.Commands;

/// <summary>huginn account create | show | credit.</summary>
public static class AccountCommands
{
    public static Command Build()
    {
        var account = new Command("account", "Create an account, show its balances, buy HU.");
        account.Add(Create());
        account.Add(Show());
        account.Add(Credit());
        return account;
    }

    private static Command Create()
    {
        var name = new Option<string>("--name") { Description = "A name for the account.", Required = true, HelpName = "NAME" };
        var role = new Option<string>("--role")
        {
            Description = "client (submits jobs) or contributor (registers devices and earns HU).",
            DefaultValueFactory = _ => "client",
        };
        role.AcceptOnlyFromAmong("client", "contributor");
        var command = new Command("create", "Create an account (no key needed); prints its API key, shown only this once.") { name, role };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var response = await session.Anonymous().PostAsync("v1/accounts", new { name = parse.GetValue(name), role = parse.GetValue(role) }, cancellationToken);
            if (session.Json)
            {
                session.WriteJson(response.Body);
                return ExitCodes.Success;
            }
            var created = response.Read<AccountCreated>();
            session.Out.Write(Formats.Fields(("account", created.AccountId), ("role", parse.GetValue(role)!), ("API key", created.ApiKey)));
            session.Out.WriteLine();
            session.Out.WriteLine("The API key is shown only this once: keep it. Use it with --key, or:");
            session.Out.WriteLine($"  export {Session.KeyVariable}={created.ApiKey}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "Show your account: balance, escrow, pending and earned HU.");
        command.SetBody(async (session, _, cancellationToken) =>
        {
            var response = await session.Client().GetAsync("v1/accounts/me", cancellationToken);
            Print(session, response);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Credit()
    {
        var hu = new Option<decimal>("--hu") { Description = "How many HU to buy (minted in the local default).", Required = true, HelpName = "HU" };
        var command = new Command("credit", "Buy HU for your account.") { hu };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var response = await session.Client().PostAsync("v1/accounts/me/credits", new { hu = parse.GetValue(hu) }, cancellationToken);
            Print(session, response);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(Session session, ApiResponse response)
    {
        if (session.Json)
        {
            session.WriteJson(response.Body);
            return;
        }
        var account = response.Read<Account>();
        session.Out.Write(Formats.Fields(
            ("account", account.AccountId),
            ("role", account.Role),
            ("balance", Formats.Hu(account.BalanceHu)),
            ("in escrow", Formats.Hu(account.EscrowHu)),
            ("pending", Formats.Hu(account.PendingHu)),
            ("earned", Formats.Hu(account.EarnedHu))));
    }
}
