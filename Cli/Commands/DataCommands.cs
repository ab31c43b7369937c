using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Huginn.Protocol;
using Spectre.Console;

namespace Huginn.Cli.Commands;

/// <summary>huginn data upload | list | show | delete: datasets of any size, uploaded in chunks that resume (docs/DATASETS.md).</summary>
public static class DataCommands
{
    public static Command Build()
    {
        var data = new Command("data", "Upload datasets (in chunks, resumable), list, show and delete them.");
        data.Add(Upload());
        data.Add(List());
        data.Add(Show());
        data.Add(Delete());
        return data;
    }

    private static Command Upload()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The dataset file: raw rows or tokens, no header (docs/DATASETS.md)." };
        var format = new Option<string>("--format")
        {
            Description = "f32 (features + targets per row), f32-features (features only: inference), u16 or u32 (token ids).",
            Required = true,
        };
        format.AcceptOnlyFromAmong("f32", "f32-features", "u16", "u32");
        var features = new Option<int?>("--features") { Description = "f32 formats: float32 features per row.", HelpName = "N" };
        var targets = new Option<int?>("--targets") { Description = "f32: float32 targets per row (default 1: a class index).", HelpName = "N" };
        var name = new Option<string?>("--name") { Description = "A name for the dataset (default: the file's name).", HelpName = "NAME" };
        var chunkBytes = new Option<long?>("--chunk-bytes") { Description = "Bytes per chunk (default: the pool's).", HelpName = "BYTES" };
        var resume = new Option<string?>("--resume")
        {
            Description = "Resume this dataset's upload. Without it, an unfinished upload of the same file (same SHA-256) is found and resumed.",
            HelpName = "ID",
        };
        var command = new Command("upload", "Upload a dataset in chunks with a progress bar; run it again after an interruption and only the missing chunks go up.")
        {
            file, format, features, targets, name, chunkBytes, resume,
        };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists) throw new CliException(ExitCodes.Usage, $"no file {path.FullName}");
            var client = session.Client();
            var sha256 = await HashAsync(path, cancellationToken);
            var dataset = parse.GetValue(resume) is { } id
                ? (await client.GetAsync($"v1/datasets/{id}", cancellationToken)).Read<Dataset>()
                : await FindUnfinishedAsync(client, sha256, path.Length, parse.GetValue(format)!, cancellationToken);
            if (dataset is null)
            {
                dataset = (await client.PostAsync("v1/datasets", new
                {
                    name = parse.GetValue(name) ?? path.Name,
                    format = parse.GetValue(format),
                    featuresPerSample = parse.GetValue(features),
                    targetsPerSample = parse.GetValue(targets),
                    totalBytes = path.Length,
                    chunkBytes = parse.GetValue(chunkBytes),
                    sha256,
                }, cancellationToken)).Read<Dataset>();
            }
            else
            {
                if (dataset.TotalBytes != path.Length || (dataset.Sha256 is not null && dataset.Sha256 != sha256))
                    throw new CliException(ExitCodes.Conflict, $"dataset {dataset.DatasetId} was declared for another file",
                        [$"it holds {dataset.TotalBytes} bytes{(dataset.Sha256 is null ? "" : $" hashing to {dataset.Sha256}")}; this file has {path.Length} bytes hashing to {sha256}"]);
                Console.Error.WriteLine($"resuming {dataset.DatasetId}: {dataset.ChunksReceived} of {dataset.ChunkCount} chunks already uploaded");
            }

            if (dataset.State != Dataset.Ready)
            {
                await UploadChunksAsync(session, client, dataset, path, cancellationToken);
                dataset = (await client.PostAsync($"v1/datasets/{dataset.DatasetId}/finalize", new { }, cancellationToken)).Read<Dataset>();
            }
            Print(session, dataset);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<string> HashAsync(FileInfo file, CancellationToken cancellationToken)
    {
        await using var stream = file.OpenRead();
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>The caller's dataset of this file (same SHA-256, size and format), if one exists: unfinished or ready.</summary>
    private static async Task<Dataset?> FindUnfinishedAsync(HuginnClient client, string sha256, long length, string format, CancellationToken cancellationToken)
    {
        var list = (await client.GetAsync("v1/datasets", cancellationToken)).Read<DatasetList>();
        return list.Datasets
            .Where(d => d.Sha256 == sha256 && d.TotalBytes == length && d.Format == format)
            .OrderByDescending(d => d.State == Dataset.Ready).ThenByDescending(d => d.ChunksReceived)
            .FirstOrDefault();
    }

    /// <summary>The missing chunks, in order, read from the file one at a time; a bar of bytes on a terminal, a line per chunk elsewhere.</summary>
    private static async Task UploadChunksAsync(Session session, HuginnClient client, Dataset dataset, FileInfo path, CancellationToken cancellationToken)
    {
        var missing = dataset.MissingChunks;
        var buffer = new byte[dataset.ChunkBytes];
        await using var stream = path.OpenRead();
        var missingBytes = missing.Sum(i => ChunkLength(dataset, i));
        async Task SendAsync(int index)
        {
            var length = (int)ChunkLength(dataset, index);
            stream.Position = index * dataset.ChunkBytes;
            await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
            await client.PutBytesAsync($"v1/datasets/{dataset.DatasetId}/chunks/{index}", buffer.AsMemory(0, length), cancellationToken);
        }

        if (session.Json || !session.Out.Profile.Capabilities.Interactive)
        {
            var done = 0;
            foreach (var index in missing)
            {
                await SendAsync(index);
                done++;
                if (!session.Json) session.Out.WriteLine($"chunk {index + 1}/{dataset.ChunkCount} uploaded ({done}/{missing.Length} of this run)");
            }
            return;
        }
        await session.Out.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask(Markup.Escape($"{dataset.Name} · {missing.Length} chunk(s)"), maxValue: Math.Max(1, missingBytes));
                foreach (var index in missing)
                {
                    await SendAsync(index);
                    bar.Increment(ChunkLength(dataset, index));
                }
                bar.StopTask();
            });
    }

    private static long ChunkLength(Dataset d, int index) =>
        index < d.ChunkCount - 1 ? d.ChunkBytes : d.TotalBytes - (long)(d.ChunkCount - 1) * d.ChunkBytes;

    private static Command List()
    {
        var command = new Command("list", "Your datasets.");
        command.SetBody(async (session, _, cancellationToken) =>
        {
            var response = await session.Client().GetAsync("v1/datasets", cancellationToken);
            if (session.Json)
            {
                session.WriteJson(response.Body);
                return ExitCodes.Success;
            }
            var list = response.Read<DatasetList>();
            if (list.Datasets.Length == 0)
            {
                session.Out.WriteLine("no datasets (huginn data upload FILE --format …)");
                return ExitCodes.Success;
            }
            var table = new Table().AddColumns("dataset", "name", "format", "bytes", "state", "rows");
            foreach (var d in list.Datasets)
                table.AddRow(Markup.Escape(d.DatasetId), Markup.Escape(d.Name), d.Format, d.TotalBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    d.State == Dataset.Ready ? d.State : $"{d.State} {d.ChunksReceived}/{d.ChunkCount}", d.Facts?.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-");
            session.Out.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("ID") { Description = "The dataset id (ds_…)." };
        var command = new Command("show", "A dataset: its format, size, upload state and facts.") { id };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var response = await session.Client().GetAsync($"v1/datasets/{Uri.EscapeDataString(parse.GetValue(id)!)}", cancellationToken);
            if (session.Json) session.WriteJson(response.Body);
            else Print(session, response.Read<Dataset>());
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Delete()
    {
        var id = new Argument<string>("ID") { Description = "The dataset id (ds_…)." };
        var command = new Command("delete", "Delete a dataset (jobs already running on it finish).") { id };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var datasetId = parse.GetValue(id)!;
            await session.Client().DeleteAsync($"v1/datasets/{Uri.EscapeDataString(datasetId)}", cancellationToken);
            if (session.Json) session.WriteJson(JsonSerializer.Serialize(new { datasetId, deleted = true }, Frame.Json));
            else session.Out.WriteLine($"deleted {datasetId}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(Session session, Dataset d)
    {
        if (session.Json)
        {
            session.WriteJson(JsonSerializer.Serialize(d, Frame.Json));
            return;
        }
        var rows = new List<(string, string)>
        {
            ("dataset", d.DatasetId), ("name", d.Name), ("format", d.Format),
            ("bytes", $"{d.TotalBytes} in {d.ChunkCount} chunk(s) of {d.ChunkBytes}"),
            ("state", d.State == Dataset.Ready ? d.State : $"{d.State}: {d.ChunksReceived} of {d.ChunkCount} chunks"),
        };
        if (d.FeaturesPerSample is { } f) rows.Add(("features", f.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (d.TargetsPerSample is { } t) rows.Add(("targets", t.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (d.Facts is { } facts)
        {
            rows.Add((d.Format is "u16" or "u32" ? "tokens" : "rows", facts.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (facts.TargetMin is { } min && facts.TargetMax is { } max)
                rows.Add((d.Format is "u16" or "u32" ? "token ids" : "targets range", $"{Formats.Number(min)} to {Formats.Number(max)}{(facts.TargetsAreIntegers ? " (whole numbers)" : "")}"));
        }
        session.Out.Write(Formats.Fields([.. rows]));
        session.Out.WriteLine();
        if (d.State == Dataset.Ready) session.Out.WriteLine($"Use it in a spec: \"dataset\": {{ \"datasetId\": \"{d.DatasetId}\" }}");
    }
}
