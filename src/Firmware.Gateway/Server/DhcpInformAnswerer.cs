using Firmware.Gateway.Configuration;
using Firmware.Gateway.Runtime;
using Firmware.Protocol.Dhcp;

namespace Firmware.Gateway.Server;

/// <summary>
/// The server's end of the DHCPINFORM exchange (see <see cref="DhcpInformResponder"/>): sits where a client's
/// packet would be written to the TUN, and answers a DHCPINFORM into that client's own tunnel instead, as if
/// the reply had come from the TUN. Exists only when <c>server.pushRoutes</c> is set: without routes to push
/// the answer would tell Windows nothing IPCP has not, so the packet goes on to the TUN as it always did and
/// Windows, hearing no answer, gives up after a few tries (as it does with pppd and pptpd).
/// </summary>
internal sealed class DhcpInformAnswerer
{
    private readonly DhcpInformResponder _responder;
    private readonly PacketBufferPool _pool;
    private long _answered;

    private DhcpInformAnswerer(DhcpInformResponder responder, PacketBufferPool pool)
    {
        _responder = responder;
        _pool = pool;
    }

    /// <summary>The answerer for this server's options, or null when there are no routes to push.</summary>
    public static DhcpInformAnswerer? For(ServerOptions options, PacketBufferPool pool) => options.PushRoutes.Count == 0
        ? null
        : new(new DhcpInformResponder(options.LocalAddress, options.PushRoutes, options.Dns), pool);

    /// <summary>DHCPINFORMs answered since start.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>
    /// True when <paramref name="packet"/> was a DHCPINFORM for us and the answer is on its way to the client
    /// through <paramref name="session"/>; the packet must then not be written to the TUN. Runs on the
    /// session's loop; a pool with no buffer left lets the packet pass (Windows asks again).
    /// </summary>
    public bool TryAnswer(TunnelSession session, ReadOnlySpan<byte> packet)
    {
        if (!DhcpInformResponder.MayBeDhcp(packet) || _pool.Rent() is not { } buffer)
        {
            return false;
        }

        var length = _responder.TryAnswer(packet, buffer.AsSpan(PacketBufferPool.HeaderRoom));
        if (length == 0)
        {
            _pool.Return(buffer);
            return false;
        }

        if (session.PostTun(buffer, PacketBufferPool.HeaderRoom, length))
        {
            Interlocked.Increment(ref _answered);
        }
        else
        {
            _pool.Return(buffer);
        }

        return true;
    }
}
