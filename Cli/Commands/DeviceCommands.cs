using System.CommandLine;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Huginn.Protocol;
using Spectre.Console;

namespace Huginn.Cli.Commands;

/// <summary>huginn devices register | show, and huginn pool.</summary>
public static class DeviceCommands
{
    public static Command Build()
    {
        var devices = new Command("devices", "Register a device of your contributor account, or show one.");
        devices.Add(Register());
        devices.Add(Show());
        return devices;
    }

    private static Command Register()
    {
        var name = new Option<string>("--name") { Description = "A name for the device.", Required = true, HelpName = "NAME" };
        var kind = new Option<string>("--kind") { Description = "cpu, gpu or browser.", Required = true };
        kind.AcceptOnlyFromAmong("cpu", "gpu", "browser");
        var gflops = new Option<double>("--gflops") { Description = "Sustained GFLOP/s.", Required = true, HelpName = "G" };
        var memory = new Option<long>("--memory-mb") { Description = "System memory in MB.", Required = true, HelpName = "M" };
        var vram = new Option<long?>("--vram-mb") { Description = "GPU memory in MB (a gpu must give it).", HelpName = "V" };
        var gpuName = new Option<string?>("--gpu-name") { Description = "The GPU's model name.", HelpName = "NAME" };
        var cores = new Option<int>("--cpu-cores") { Description = "CPU cores.", DefaultValueFactory = _ => 1, HelpName = "N" };
        var runtimes = new Option<string>("--runtimes")
        {
            Description = "Comma-separated runtimes the device runs shards with.",
            DefaultValueFactory = _ => "torch",
            HelpName = "torch,...",
        };
        var command = new Command("register", "Register a device (contributor key); prints its device token, shown only this once.")
        {
            name, kind, gflops, memory, vram, gpuName, cores, runtimes,
        };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var capabilities = new DeviceCapabilitiesDto(parse.GetValue(kind)!, parse.GetValue(gpuName), parse.GetValue(vram),
                parse.GetValue(gflops), parse.GetValue(cores), parse.GetValue(memory),
                parse.GetValue(runtimes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), null);
            var response = await session.Client().PostAsync("v1/devices", new { name = parse.GetValue(name), capabilities }, cancellationToken);
            if (session.Json)
            {
                session.WriteJson(response.Body);
                return ExitCodes.Success;
            }
            var device = response.Read<DeviceRegistered>();
            session.Out.Write(Formats.Fields(("device", device.DeviceId), ("token", device.DeviceToken)));
            session.Out.WriteLine();
            session.Out.WriteLine("The device token is shown only this once: keep it. Start the Huginn worker with it:");
            session.Out.WriteLine($"  --api {session.Api} --token {device.DeviceToken}   (or HUGINN_API, HUGINN_DEVICE_TOKEN)");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show()
    {
        var deviceId = new Argument<string>("DEVICE_ID") { Description = "The device's id (dev_…)." };
        var command = new Command("show", "Show one of your devices: status, reputation, audits, earnings.") { deviceId };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var response = await session.Client().GetAsync($"v1/devices/{Uri.EscapeDataString(parse.GetValue(deviceId)!)}", cancellationToken);
            if (session.Json)
            {
                session.WriteJson(response.Body);
                return ExitCodes.Success;
            }
            var d = response.Read<Device>();
            var c = d.Capabilities;
            session.Out.Write(Formats.Fields(
                ("device", $"{d.DeviceId} ({d.Name})"),
                ("hardware", $"{c.Kind}{(c.GpuName is null ? "" : $" {c.GpuName}")}, {Formats.Number(c.Gflops)} GFLOP/s, {c.CpuCores} cores, "
                    + $"{c.MemoryMb} MB{(c.VramMb is > 0 ? $", {c.VramMb} MB VRAM" : "")}; class {d.HardwareClass}"),
                ("runtimes", string.Join(", ", c.Runtimes ?? [])),
                ("status", d.Banned ? $"{d.Status} (banned)" : d.Status),
                ("last heartbeat", Formats.Time(d.LastHeartbeat)),
                ("reputation", Formats.Number(d.Reputation, "0.###")),
                ("audit rate", Formats.Percent(d.AuditRate)),
                ("results", $"{d.Verified} verified, {d.Unaudited} unaudited, {d.Invalid} invalid, {d.Expired} expired; {d.OpenLeases} leases open"),
                ("earned", Formats.Hu(d.EarnedHu)),
                ("pending", Formats.Hu(d.PendingHu))));
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Pool()
    {
        var command = new Command("pool", "Show the pool: devices and GFLOP/s online, the queue, the price of HU.");
        command.SetBody(async (session, _, cancellationToken) =>
        {
            var response = await session.Client().GetAsync("v1/pool", cancellationToken);
            if (session.Json)
            {
                session.WriteJson(response.Body);
                return ExitCodes.Success;
            }
            var pool = response.Read<PoolOverview>();
            var byKind = pool.ByKind is { Count: > 0 } kinds ? $" ({string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Value} {k.Key}"))})" : "";
            session.Out.Write(Formats.Fields(
                ("devices online", $"{pool.DevicesOnline}{byKind}"),
                ("GFLOP/s online", Formats.Number(pool.GflopsOnline, "0.#")),
                ("shards queued", pool.ShardsQueued.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("jobs running", pool.JobsRunning.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("mean audit rate", Formats.Percent(pool.MeanAuditRate)),
                ("price of 1 HU", Formats.Eur(pool.HuPriceEur))));
            return ExitCodes.Success;
        });
        return command;
    }
}
