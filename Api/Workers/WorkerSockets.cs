using System.Collections.Concurrent;

namespace Huginn.Api.Workers;

/// <summary>
/// Worker sockets open on this Api instance, per owner, so that one contributor cannot pin an unbounded number of
/// sockets (and their buffers) here (issue 12, finding 6). Per instance, not cluster-wide: a count in a grain would
/// outlive an Api that crashed with its sockets open, and each instance's memory is what the limit protects.
/// </summary>
public sealed class WorkerSockets
{
    private readonly ConcurrentDictionary<string, int> _open = new();

    /// <summary>Takes a place for one more socket of this owner; false when it already has <paramref name="max"/>.</summary>
    public bool TryOpen(string ownerAccountId, int max)
    {
        while (true)
        {
            var current = _open.GetValueOrDefault(ownerAccountId);
            if (current >= max) return false;
            if (current == 0 ? _open.TryAdd(ownerAccountId, 1) : _open.TryUpdate(ownerAccountId, current + 1, current)) return true;
        }
    }

    /// <summary>Gives the place back when the socket has ended.</summary>
    public void Close(string ownerAccountId)
    {
        while (true)
        {
            var current = _open.GetValueOrDefault(ownerAccountId);
            if (current <= 1)
            {
                if (current == 0 || _open.TryRemove(new KeyValuePair<string, int>(ownerAccountId, 1))) return;
            }
            else if (_open.TryUpdate(ownerAccountId, current - 1, current)) return;
        }
    }
}
