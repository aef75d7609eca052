using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Firmware.Platform.Tun;
using Firmware.Protocol.Ip;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// What the TUN bridges counted, service-wide and since start: a client's bridge comes and goes with its
/// tunnel, its counts stay here.
/// </summary>
public sealed class TunCounters
{
    internal long NoSessionField, OverflowField, WriteFailuresField, ReadField, WrittenField;
    internal long SuperPacketsReadField, SuperPacketsWrittenField, OffloadRefusedField;

    /// <summary>Packets the kernel routed to a TUN for an address no tunnel holds.</summary>
    public long NoSession => Interlocked.Read(ref NoSessionField);

    /// <summary>Packets read but dropped because the tunnel's queue or the buffer pool was full.</summary>
    public long Overflow => Interlocked.Read(ref OverflowField);

    /// <summary>Packets from a tunnel the kernel did not take.</summary>
    public long WriteFailures => Interlocked.Read(ref WriteFailuresField);

    public long Read => Interlocked.Read(ref ReadField);

    public long Written => Interlocked.Read(ref WrittenField);

    /// <summary>TCP super-packets the kernel handed a TUN (each cut into the tunnel's segments, counted in <see cref="Read"/>).</summary>
    public long SuperPacketsRead => Interlocked.Read(ref SuperPacketsReadField);

    /// <summary>Super-packets written: a tunnel's received segments joined (each counted in <see cref="Written"/>).</summary>
    public long SuperPacketsWritten => Interlocked.Read(ref SuperPacketsWrittenField);

    /// <summary>What the kernel handed a TUN with an offload header that did not fit the packet: dropped.</summary>
    public long OffloadRefused => Interlocked.Read(ref OffloadRefusedField);
}

/// <summary>
/// One TUN device and its reader: a dedicated thread reads each IP packet into a pooled buffer after the
/// header room and hands it to the session that owns its destination (a server's TUN serves many clients,
/// routed by their assigned addresses) or to the one session of a client's TUN. Packets for no session are
/// dropped and counted. When the device disappears under us, <see cref="DeviceLost"/> fires once.
/// Sessions write through their own <see cref="TcpCoalescer"/>, so a device that takes super-packets gets a
/// batch's TCP segments joined.
/// </summary>
public sealed class TunBridge : IDisposable, ISuperPacketSink
{
    private readonly ITunDevice _tun;
    private readonly PacketBufferPool _pool;
    private readonly ConcurrentDictionary<uint, TunnelSession> _byAddress = new();
    /// <summary>IPv6 link-local destinations by their interface identifier (the one IPv6CP agreed for the peer).</summary>
    private readonly ConcurrentDictionary<ulong, TunnelSession> _byInterfaceId = new();
    private readonly Thread _reader;
    private volatile TunnelSession? _onlySession;
    private volatile bool _stopping;
    private readonly TunCounters _counters;

    /// <param name="counters">Where this bridge counts (shared by the gateway's bridges); null: its own.</param>
    public TunBridge(ITunDevice tun, PacketBufferPool pool, TunCounters? counters = null)
    {
        _tun = tun;
        _pool = pool;
        _counters = counters ?? new TunCounters();
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"tun-{tun.Name}" };
    }

    public string Name => _tun.Name;

    /// <summary>Raised on the reader thread when the device stopped working (e.g. deleted by `ip link del`).</summary>
    public event Action<TunBridge>? DeviceLost;

    public TunCounters Counters => _counters;

    public void Start() => _reader.Start();

    /// <summary>Packets to <paramref name="address"/> go to <paramref name="session"/> (server side).</summary>
    public void Route(IPAddress address, TunnelSession session) => _byAddress[Key(address)] = session;

    public void Unroute(IPAddress address, TunnelSession session)
        => _byAddress.TryRemove(new KeyValuePair<uint, TunnelSession>(Key(address), session));

    /// <summary>IPv6 packets to fe80::<paramref name="interfaceId"/> go to <paramref name="session"/> (server side).</summary>
    /// <returns>False if another tunnel has that identifier (a peer may not take over another's address).</returns>
    public bool RouteLinkLocal(ulong interfaceId, TunnelSession session)
        => _byInterfaceId.TryAdd(interfaceId, session) || _byInterfaceId.TryGetValue(interfaceId, out var owner) && owner == session;

    public void UnrouteLinkLocal(ulong interfaceId, TunnelSession session)
        => _byInterfaceId.TryRemove(new KeyValuePair<ulong, TunnelSession>(interfaceId, session));

    /// <summary>Every packet goes to <paramref name="session"/> (a client's own TUN); null stops that.</summary>
    public void RouteAll(TunnelSession? session) => _onlySession = session;

    /// <summary>
    /// Writes a packet from a session to the kernel, or holds it in the session's <paramref name="coalescer"/>
    /// to join the next ones (the session flushes it at the end of its batch). Called on that session's loop.
    /// </summary>
    public void Write(ReadOnlySpan<byte> packet, TcpCoalescer? coalescer)
    {
        if (coalescer is not null && _tun.TakesSuperPackets)
        {
            coalescer.Add(packet, this);
        }
        else
        {
            WritePacket(packet);
        }
    }

    public void WritePacket(ReadOnlySpan<byte> packet)
    {
        if (_tun.Write(packet))
        {
            Interlocked.Increment(ref _counters.WrittenField);
        }
        else
        {
            Interlocked.Increment(ref _counters.WriteFailuresField);
        }
    }

    void ISuperPacketSink.WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet)
    {
        var segments = (packet.Length - header.HeaderLength + header.GsoSize - 1) / header.GsoSize;
        if (_tun.WriteSuperPacket(header, packet))
        {
            Interlocked.Add(ref _counters.WrittenField, segments);
            Interlocked.Increment(ref _counters.SuperPacketsWrittenField);
        }
        else
        {
            Interlocked.Add(ref _counters.WriteFailuresField, segments);
        }
    }

    private void ReadLoop()
    {
        Span<byte> scratch = stackalloc byte[PacketBufferPool.BufferSize];
        var offloads = default(TunOffloadCounts);
        while (true)
        {
            if (_tun.OffloadCounts is var now && now != offloads)
            {
                Interlocked.Add(ref _counters.SuperPacketsReadField, now.SuperPacketsRead - offloads.SuperPacketsRead);
                Interlocked.Add(ref _counters.OffloadRefusedField, now.Refused - offloads.Refused);
                offloads = now;
            }
            var buffer = _pool.Rent();
            if (buffer is null)
            {
                Interlocked.Increment(ref _counters.OverflowField);
                // Drain one packet into a scratch buffer so the kernel queue keeps moving.
                if (_tun.Read(scratch) < 0)
                {
                    break;
                }
                continue;
            }
            var n = _tun.Read(buffer.AsSpan(PacketBufferPool.HeaderRoom));
            if (n < 0)
            {
                _pool.Return(buffer);
                break;
            }
            Interlocked.Increment(ref _counters.ReadField);
            var session = _onlySession ?? FindSession(buffer.AsSpan(PacketBufferPool.HeaderRoom, n));
            if (session is null)
            {
                Interlocked.Increment(ref _counters.NoSessionField);
                _pool.Return(buffer);
                continue;
            }
            if (!session.PostTun(buffer, PacketBufferPool.HeaderRoom, n))
            {
                Interlocked.Increment(ref _counters.OverflowField);
                _pool.Return(buffer);
            }
        }
        if (!_stopping)
        {
            DeviceLost?.Invoke(this);
        }
    }

    private TunnelSession? FindSession(ReadOnlySpan<byte> packet)
    {
        if (packet.Length >= 20 && packet[0] >> 4 == 4)
        {
            return _byAddress.TryGetValue(BinaryPrimitives.ReadUInt32BigEndian(packet[16..]), out var s) ? s : null;
        }
        // IPv6: a link-local destination names its tunnel by the interface identifier (fe80::/64 + the ID).
        if (packet.Length >= 40 && packet[0] >> 4 == 6 && BinaryPrimitives.ReadUInt64BigEndian(packet[24..]) == Ipv6LinkLocal.Prefix)
        {
            return _byInterfaceId.TryGetValue(BinaryPrimitives.ReadUInt64BigEndian(packet[32..]), out var s) ? s : null;
        }
        return null;
    }

    private static uint Key(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public void Dispose()
    {
        _stopping = true;
        _tun.Dispose();
        if (_reader.IsAlive)
        {
            _reader.Join(TimeSpan.FromSeconds(2));
        }
    }
}
