namespace Firmware.Protocol.Radius;

/// <summary>
/// The 256 Identifiers of one server (one source port and destination): a request holds its Identifier
/// from the first send until it is answered or given up, so no two outstanding requests share one
/// (RFC 2865 section 3, RFC 5080 section 2.2.1). Allocation walks on from the last one handed out, so an
/// Identifier just released is the last to come back. Not thread-safe: one owner's loop uses it.
/// </summary>
public sealed class RadiusIdentifierPool
{
    private readonly bool[] _inUse = new bool[256];
    private int _next;

    /// <summary>Identifiers currently held.</summary>
    public int InUse { get; private set; }

    /// <summary>A free Identifier; false when all 256 are outstanding.</summary>
    public bool TryAllocate(out byte identifier)
    {
        for (var i = 0; i < 256; i++)
        {
            var candidate = (_next + i) & 0xFF;
            if (!_inUse[candidate])
            {
                _inUse[candidate] = true;
                _next = (candidate + 1) & 0xFF;
                InUse++;
                identifier = (byte)candidate;
                return true;
            }
        }
        identifier = 0;
        return false;
    }

    /// <summary>Gives an Identifier back; releasing one that is not held does nothing.</summary>
    public void Release(byte identifier)
    {
        if (_inUse[identifier])
        {
            _inUse[identifier] = false;
            InUse--;
        }
    }
}
