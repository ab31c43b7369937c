using Huginn.Worker.Execution;
using Huginn.Worker.Hardware;

namespace Huginn.Tests.Worker;

/// <summary>
/// The hardware profile and executor every TorchSharp test shares, detected once. libtorch's thread count is
/// process-wide, and some tests change it: the collection runs its tests one at a time.
/// </summary>
public sealed class TorchFixture
{
    public TorchFixture()
    {
        Profile = HardwareProbe.Detect();
        Executor = new TorchExecutor(Profile);
    }

    public HardwareProfile Profile { get; }

    public TorchExecutor Executor { get; }
}

[CollectionDefinition(Name)]
public sealed class TorchCollection : ICollectionFixture<TorchFixture>
{
    public const string Name = "torch";
}
