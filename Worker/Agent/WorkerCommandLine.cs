namespace Huginn.Worker.Agent;

/// <summary>Flags of the worker; each has a HUGINN_* environment variable as fallback.</summary>
public static class WorkerCommandLine
{
    public const string Usage = """
        Huginn worker: contributes this machine's GPU or CPU to a Huginn pool.

          dotnet run --project Worker -- --api URL --token DEVICE_TOKEN
          dotnet run --project Worker -- --api URL --register --api-key CONTRIBUTOR_KEY [--name NAME]
          dotnet run --project Worker -- --calibrate

          --api URL          the pool's Api (HUGINN_API), e.g. http://127.0.0.1:5080
          --token TOKEN      this device's token (HUGINN_DEVICE_TOKEN)
          --token-file PATH  keeps the token in PATH (owner-only): --register writes it, a later run reads it (HUGINN_DEVICE_TOKEN_FILE)
          --register         create the device with a contributor key first, then run
          --show-token       with --register: print the new token (it is never printed otherwise)
          --api-key KEY      contributor API key for --register (HUGINN_API_KEY)
          --name NAME        device name for --register (default: the machine name)
          --threads N        CPU threads for TorchSharp (default: all cores)
          --slots N          leases held at once, run one after another (default: 2, so the next shard waits here)
          --calibrate        measure result agreement across runs and thread counts, print it, exit
          --fault KIND       TEST ONLY: wrong | noisy | lazy | stall | nonfinite — misbehave on purpose to exercise verification
        """;

    /// <summary>Parses the flags; null and an error when they are unusable.</summary>
    public static (WorkerOptions? Options, bool Calibrate, string? Error) Parse(string[] args, Func<string, string?> environment)
    {
        string? Value(ref int i) => i + 1 < args.Length ? args[++i] : null;
        string? api = environment("HUGINN_API"), token = environment("HUGINN_DEVICE_TOKEN"), apiKey = environment("HUGINN_API_KEY");
        string? tokenFile = environment("HUGINN_DEVICE_TOKEN_FILE");
        var showToken = false;
        string? name = null, fault = null;
        int? threads = null;
        var slots = WorkerOptions.DefaultSlots;
        bool register = false, calibrate = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--api": api = Value(ref i); break;
                case "--token": token = Value(ref i); break;
                case "--token-file": tokenFile = Value(ref i); break;
                case "--show-token": showToken = true; break;
                case "--api-key": apiKey = Value(ref i); break;
                case "--name": name = Value(ref i); break;
                case "--register": register = true; break;
                case "--calibrate": calibrate = true; break;
                case "--fault": fault = Value(ref i); break;
                case "--threads":
                    if (!int.TryParse(Value(ref i), out var n) || n < 1) return (null, false, "--threads takes a positive number");
                    threads = n;
                    break;
                case "--slots":
                    if (!int.TryParse(Value(ref i), out var s) || s is < 1 or > WorkerOptions.MaxSlots)
                        return (null, false, $"--slots takes a number from 1 to {WorkerOptions.MaxSlots}");
                    slots = s;
                    break;
                default: return (null, false, $"unknown argument '{args[i]}'");
            }
        }
        if (calibrate) return (new WorkerOptions { Api = new Uri("http://127.0.0.1"), Threads = threads }, true, null);
        if (api is null || !Uri.TryCreate(api, UriKind.Absolute, out var apiUri) || apiUri.Scheme is not ("http" or "https"))
            return (null, false, "--api (or HUGINN_API) must be the pool's http(s) URL");
        if (register && string.IsNullOrEmpty(apiKey)) return (null, false, "--register needs --api-key (or HUGINN_API_KEY) of a contributor account");
        if (!register && string.IsNullOrEmpty(token) && string.IsNullOrEmpty(tokenFile))
            return (null, false, "--token or --token-file (or HUGINN_DEVICE_TOKEN) is required, or use --register");
        Fault parsedFault = Fault.None;
        if (fault is not null && !Enum.TryParse(fault, ignoreCase: true, out parsedFault))
            return (null, false, "--fault takes wrong, noisy, lazy or stall");
        return (new WorkerOptions
        {
            Api = apiUri,
            DeviceToken = token,
            ApiKey = apiKey,
            Register = register,
            ShowToken = showToken,
            TokenFile = tokenFile,
            Name = name ?? Environment.MachineName,
            Threads = threads,
            Slots = slots,
            Fault = parsedFault,
        }, false, null);
    }
}
