using System.Text.Json.Serialization;
using Huginn.Workloads;

namespace Huginn.Protocol;

/// <summary>
/// The header of every frame on the worker socket, told apart by its "type" property.
/// Version 1: see docs/PROTOCOL.md. New message types and new optional fields may be added within v1;
/// anything else is v2.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(HelloMessage), "hello")]
[JsonDerivedType(typeof(WelcomeMessage), "welcome")]
[JsonDerivedType(typeof(HeartbeatMessage), "heartbeat")]
[JsonDerivedType(typeof(HeartbeatAckMessage), "heartbeatAck")]
[JsonDerivedType(typeof(AssignMessage), "assign")]
[JsonDerivedType(typeof(AckMessage), "ack")]
[JsonDerivedType(typeof(ResultMessage), "result")]
[JsonDerivedType(typeof(ReceiptMessage), "receipt")]
[JsonDerivedType(typeof(ReleaseMessage), "release")]
[JsonDerivedType(typeof(RevokeMessage), "revoke")]
[JsonDerivedType(typeof(ErrorMessage), "error")]
public abstract record ProtocolMessage;

/// <summary>
/// Worker → server, first frame: protocol version and what the device can do (re-registers it when changed).
/// <see cref="Token"/>: the device token, for a peer that cannot send an Authorization header on the upgrade (a
/// browser); it never goes in the URL, where request logs would keep it.
/// </summary>
public sealed record HelloMessage(int Version, DeviceCapabilitiesDto? Capabilities, string? Agent, string? Token = null) : ProtocolMessage
{
    /// <summary>Without the token: a message may be logged, a secret must not be.</summary>
    public override string ToString() => $"HelloMessage {{ Version = {Version}, Agent = {Agent}, Token = {(Token is null ? "none" : "(redacted)")} }}";
}

/// <summary>Server → worker: the connection is accepted.</summary>
public sealed record WelcomeMessage(int Version, string DeviceId, double HeartbeatSeconds, int MaxFrameBytes) : ProtocolMessage;

/// <summary>Worker → server: alive; the content ids it holds in its cache (at most 256).</summary>
public sealed record HeartbeatMessage(string[]? CachedBlobIds) : ProtocolMessage;

/// <summary>Server → worker: the device's status after the heartbeat ("online", "banned").</summary>
public sealed record HeartbeatAckMessage(string Status) : ProtocolMessage;

/// <summary>
/// Server → worker: run this shard before the deadline. Weights come from the blob store by id
/// (one download per round, not per shard); the dataset too when the spec names a blob. When the spec names a
/// dataset, <see cref="DatasetChunks"/> lists the chunks the shard's slice lies in: the worker fetches those (each
/// once, cached by id) and may read no other chunk of it.
/// </summary>
public sealed record AssignMessage(
    string LeaseId,
    string JobId,
    JobSpec Spec,
    ShardPlan Shard,
    string? WeightsBlobId,
    DateTimeOffset Deadline,
    long PriceMicroHu,
    ShardChunks? DatasetChunks = null) : ProtocolMessage;

/// <summary>Worker → server: assignment received and started.</summary>
public sealed record AckMessage(string LeaseId) : ProtocolMessage;

/// <summary>
/// Worker → server: the output of a lease, <see cref="ValueCount"/> little-endian float32 values followed by
/// <see cref="ByteCount"/> raw bytes. Either the frame's payload holds exactly those bytes, or (a result larger than
/// a frame) the worker uploaded them first (<c>POST /v1/blobs</c>) and <see cref="ResultBlobId"/> names the blob, with
/// an empty payload. The server checks the size against the lease and that every value is finite either way.
/// </summary>
public sealed record ResultMessage(string LeaseId, double Loss, long Samples, int ValueCount, int ByteCount, string? ResultBlobId = null) : ProtocolMessage;

/// <summary>Server → worker: what became of a result: "accepted", "notLeased" or "malformed".</summary>
public sealed record ReceiptMessage(string LeaseId, string Receipt) : ProtocolMessage;

/// <summary>Worker → server: giving a lease back unfinished (shutting down, or the shard failed here); the shard goes elsewhere at once.</summary>
/// <param name="Reason">Why, in the worker's words (optional, sanitized by <see cref="ShardFailureText"/> on both sides, at most <see cref="MaxReasonLength"/> characters kept): the job's failure reason quotes it when a shard fails everywhere.</param>
/// <param name="Code">
/// Why, as one of <see cref="ShardErrorCodes"/> (optional; a missing or unknown code is "internal"). Devices of two owners
/// giving the shard back with the same deterministic code fail the job at once (docs/PROTOCOL.md, "Error codes").
/// </param>
public sealed record ReleaseMessage(string LeaseId, string? Reason = null, string? Code = null) : ProtocolMessage
{
    public const int MaxReasonLength = ShardFailureText.MaxLength;
}

/// <summary>Server → worker: stop working on a lease (expired, job ended, not needed, device banned).</summary>
public sealed record RevokeMessage(string LeaseId, string Reason) : ProtocolMessage;

/// <summary>Server → worker: a frame was refused; the connection stays open unless it is closed right after.</summary>
public sealed record ErrorMessage(string Code, string Message, string? LeaseId = null) : ProtocolMessage;

/// <summary>A device's capabilities on the wire (and in POST /v1/devices).</summary>
public sealed record DeviceCapabilitiesDto(
    string Kind,
    string? GpuName,
    long? VramMb,
    double Gflops,
    int CpuCores,
    long MemoryMb,
    string[] Runtimes,
    int? Slots);
