namespace Huginn.Workloads;

/// <summary>
/// A training job's validation split (issue 13, item 6): exactly one of <see cref="Fraction"/> (the last fraction of
/// the dataset's rows, held out of training) or <see cref="Dataset"/> (a separate dataset in the training set's format).
/// The rows are evaluated after each round by an evaluation shard (<see cref="ShardEvaluation"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.validation-spec")]
public sealed record ValidationSpec
{
    [Id(0)] public double? Fraction { get; init; }
    [Id(1)] public DatasetSpec? Dataset { get; init; }
}

/// <summary>Which rows train and which validate: rows [0, TrainingRows) of the dataset, then the validation rows.</summary>
/// <param name="TrainingRows">Rows the training shards split among themselves.</param>
/// <param name="ValidationOffset">The first validation row in the validation source (the training dataset for a fraction, else 0).</param>
/// <param name="ValidationRows">Rows each round's evaluation covers.</param>
/// <param name="SeparateDataset">True when the rows come from <see cref="ValidationSpec.Dataset"/>.</param>
public sealed record ValidationSplit(long TrainingRows, long ValidationOffset, long ValidationRows, bool SeparateDataset)
{
    /// <summary>A fraction holds out at least this many rows: fewer measure nothing.</summary>
    public const long MinValidationRows = 1;

    /// <summary>The widest fraction: a job keeps at least half its rows for training.</summary>
    public const double MaxFraction = 0.5;

    /// <summary>
    /// The split of a training job over <paramref name="datasetRows"/> rows in <paramref name="shardsPerRound"/> shards,
    /// or the errors that name the field at fault (<c>validation.fraction</c>, <c>validation.dataset</c>, …). Held-out
    /// rows are the last <c>floor(fraction · rows)</c>: the same rows in every round, never sampled by a training shard.
    /// </summary>
    public static (ValidationSplit? Split, IReadOnlyList<SpecError> Errors) Of(ValidationSpec validation, long datasetRows, int shardsPerRound)
    {
        ArgumentNullException.ThrowIfNull(validation);
        var errors = new List<SpecError>();
        if ((validation.Fraction is null) == (validation.Dataset is null))
        {
            errors.Add(new SpecError("validation", "give exactly one of 'fraction' (rows held out of the dataset) or 'dataset' (a separate dataset)"));
            return (null, errors);
        }
        if (validation.Fraction is { } fraction)
        {
            if (!double.IsFinite(fraction) || fraction <= 0 || fraction > MaxFraction)
            {
                errors.Add(new SpecError("validation.fraction", $"must be greater than 0 and at most {MaxFraction}"));
                return (null, errors);
            }
            var held = (long)Math.Floor(fraction * datasetRows);
            if (held < MinValidationRows)
                errors.Add(new SpecError("validation.fraction", $"holds out no row of the dataset's {datasetRows}: give a larger fraction or more rows"));
            var training = datasetRows - held;
            if (training < shardsPerRound)
                errors.Add(new SpecError("validation.fraction", $"leaves {training} training rows for {shardsPerRound} shards a round: every shard needs at least one"));
            return errors.Count > 0 ? (null, errors) : (new ValidationSplit(training, training, held, false), errors);
        }
        var rows = validation.Dataset!.SampleCount();
        if (rows < MinValidationRows) errors.Add(new SpecError("validation.dataset.samples", "must be at least 1"));
        return errors.Count > 0 ? (null, errors) : (new ValidationSplit(datasetRows, 0, rows, true), errors);
    }
}
