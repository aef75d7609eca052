using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using Firmware.Platform.Linux;

namespace Firmware.Platform.Gre;

/// <summary>Where the GRE packet sits inside a received IPv4 datagram, and who sent it.</summary>
/// <param name="Source">The sender's IPv4 address: its four header bytes read as a little-endian integer, the same
/// value <see cref="RawGreSocket.AddressKey"/> gives, so sessions are found without allocating an IPAddress.</param>
/// <param name="Offset">Offset of the GRE header in the receive buffer (after the IP header).</param>
/// <param name="Length">Length of the GRE packet (header and payload).</param>
public readonly record struct GreDatagram(uint Source, int Offset, int Length);

/// <summary>
/// The one raw IP-protocol-47 socket that all sessions share. The kernel hands raw IPv4 sockets the whole
/// datagram, IP header included; the header is skipped in place, so the caller demultiplexes by
/// (source address, call ID) with no copy and no allocation. Sending lets the kernel write the IP header.
/// Receives and sends go in batches (recvmmsg, sendmmsg) straight on the descriptor, not through .NET's
/// socket engine: the reader is a thread of its own that blocks in the kernel, so a datagram costs neither an
/// epoll wake-up nor a thread-pool hop, and a burst costs one system call.
/// </summary>
public sealed unsafe class RawGreSocket : IGreTransport
{
    public const int GreProtocol = 47;

    /// <summary>How long a blocked receive waits before it returns 0 so its caller can look at a stop flag.</summary>
    private const int ReceiveTimeoutMilliseconds = 500;

    private readonly FileDescriptor _fd;
    private long _sendFailures;

    /// <param name="localAddress">Bind to this address (the control connection's local address), or null for any.</param>
    public RawGreSocket(IPAddress? localAddress = null)
    {
        var fd = MessageNative.Socket(MessageNative.AfInet, MessageNative.SockRaw | MessageNative.SockCloexec, GreProtocol);
        if (fd < 0)
        {
            throw MessageNative.LastError("raw GRE socket (needs CAP_NET_RAW)");
        }
        _fd = new FileDescriptor(fd);
        if (localAddress is not null)
        {
            var address = stackalloc byte[MessageNative.SockaddrInLength];
            MessageNative.WriteSockaddrIn(new Span<byte>(address, MessageNative.SockaddrInLength), AddressKey(localAddress));
            if (MessageNative.Bind(fd, address, MessageNative.SockaddrInLength) < 0)
            {
                var error = MessageNative.LastError($"bind raw GRE socket to {localAddress}");
                _fd.Dispose();
                throw error;
            }
        }
        // Room for bursts: a tunnel at line rate fills the default quickly. FORCE passes net.core.rmem_max
        // (we run with CAP_NET_ADMIN); without it the plain option gives what the limit allows.
        SetBufferSize(MessageNative.SoRcvbufforce, MessageNative.SoRcvbuf, 4 * 1024 * 1024);
        SetBufferSize(MessageNative.SoSndbufforce, MessageNative.SoSndbuf, 4 * 1024 * 1024);
        var timeout = new MessageNative.TimeVal { Seconds = 0, Microseconds = ReceiveTimeoutMilliseconds * 1000 };
        _ = MessageNative.SetSockOpt(fd, MessageNative.SolSocket, MessageNative.SoRcvtimeo, &timeout, (uint)sizeof(MessageNative.TimeVal));
    }

    public long SendFailures => Interlocked.Read(ref _sendFailures);

    private void SetBufferSize(int forced, int plain, int bytes)
    {
        if (MessageNative.SetSockOpt(_fd.Value, MessageNative.SolSocket, forced, &bytes, sizeof(int)) < 0)
        {
            _ = MessageNative.SetSockOpt(_fd.Value, MessageNative.SolSocket, plain, &bytes, sizeof(int));
        }
    }

    /// <inheritdoc />
    public int Receive(GreReceiveBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var slots = Math.Min(batch.Ready, MessageNative.MaxBatch);
        batch.SetCount(0);
        if (slots == 0)
        {
            return 0;
        }
        var messages = stackalloc MessageNative.MMsgHdr[slots];
        var vectors = stackalloc MessageNative.IoVec[slots];
        new Span<byte>(messages, slots * sizeof(MessageNative.MMsgHdr)).Clear();
        var pins = stackalloc GCHandle[slots];
        for (var i = 0; i < slots; i++)
        {
            var buffer = batch.Buffer(i)!;
            // Pooled buffers sit on the pinned heap already; the pin costs a handle, no allocation, and keeps
            // any other buffer still while the kernel writes into it.
            pins[i] = GCHandle.Alloc(buffer, GCHandleType.Pinned);
            vectors[i] = new MessageNative.IoVec { Base = (byte*)pins[i].AddrOfPinnedObject(), Length = (nuint)buffer.Length };
            messages[i].Header.Iov = &vectors[i];
            messages[i].Header.IovLength = 1;
        }
        int received;
        try
        {
            if (!_fd.TryEnter(out var fd))
            {
                return -1;
            }
            try
            {
                // WAITFORONE: block for the first datagram, then take whatever else is already queued.
                received = MessageNative.RecvMMsg(fd, messages, (uint)slots, MessageNative.MsgWaitforone, null);
            }
            finally
            {
                _fd.Leave();
            }
        }
        finally
        {
            for (var i = 0; i < slots; i++)
            {
                pins[i].Free();
            }
        }
        if (_fd.IsClosed)
        {
            return -1; // shutdown() woke us: the socket is closing
        }
        if (received < 0)
        {
            return 0; // EAGAIN: the receive timeout (the caller looks at its stop flag); EINTR and the rest pass too
        }
        for (var i = 0; i < received; i++)
        {
            batch.SetReceived(i, (int)messages[i].Length);
        }
        batch.SetCount(received);
        return received;
    }

    /// <inheritdoc />
    public void Send(GreSendBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var total = batch.Count;
        var most = Math.Min(total, MessageNative.MaxBatch);
        var messages = stackalloc MessageNative.MMsgHdr[most];
        var vectors = stackalloc MessageNative.IoVec[most];
        var addresses = stackalloc byte[most * MessageNative.SockaddrInLength];
        var pins = stackalloc GCHandle[most];
        var start = 0;
        while (start < total)
        {
            var count = Math.Min(total - start, most);
            new Span<byte>(messages, count * sizeof(MessageNative.MMsgHdr)).Clear();
            for (var i = 0; i < count; i++)
            {
                var index = start + i;
                var address = addresses + (i * MessageNative.SockaddrInLength);
                MessageNative.WriteSockaddrIn(new Span<byte>(address, MessageNative.SockaddrInLength), batch.Peer(index));
                pins[i] = GCHandle.Alloc(batch.Buffer(index), GCHandleType.Pinned);
                vectors[i] = new MessageNative.IoVec { Base = (byte*)pins[i].AddrOfPinnedObject() + batch.Offset(index), Length = (nuint)batch.Length(index) };
                messages[i].Header.Name = address;
                messages[i].Header.NameLength = MessageNative.SockaddrInLength;
                messages[i].Header.Iov = &vectors[i];
                messages[i].Header.IovLength = 1;
            }
            try
            {
                SendMessages(messages, count);
            }
            finally
            {
                for (var i = 0; i < count; i++)
                {
                    pins[i].Free();
                }
            }
            start += count;
        }
    }

    /// <summary>Sends messages[0..count) in as many sendmmsg calls as it takes; a message refused is counted and skipped.</summary>
    private void SendMessages(MessageNative.MMsgHdr* messages, int count)
    {
        var done = 0;
        while (done < count)
        {
            if (!_fd.TryEnter(out var fd))
            {
                Interlocked.Add(ref _sendFailures, count - done);
                return;
            }
            int sent;
            int errno;
            try
            {
                sent = MessageNative.SendMMsg(fd, messages + done, (uint)(count - done), MessageNative.MsgDontwait);
                errno = sent < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            finally
            {
                _fd.Leave();
            }
            if (sent > 0)
            {
                done += sent;
            }
            else if (errno != MessageNative.EIntr)
            {
                // The first message failed (unreachable, full buffer, a firewall): it is lost, the rest go on.
                Interlocked.Increment(ref _sendFailures);
                done++;
            }
        }
    }

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> grePacket, uint peer)
    {
        if (SendTo(grePacket, peer) < 0)
        {
            Interlocked.Increment(ref _sendFailures);
        }
    }

    /// <summary>Sends one GRE packet; the bytes sent, or -1.</summary>
    public int SendTo(ReadOnlySpan<byte> grePacket, uint peer)
    {
        var address = stackalloc byte[MessageNative.SockaddrInLength];
        MessageNative.WriteSockaddrIn(new Span<byte>(address, MessageNative.SockaddrInLength), peer);
        if (!_fd.TryEnter(out var fd))
        {
            return -1;
        }
        try
        {
            fixed (byte* data = grePacket)
            {
                return (int)MessageNative.SendTo(fd, data, (nuint)grePacket.Length, MessageNative.MsgDontwait, address, MessageNative.SockaddrInLength);
            }
        }
        finally
        {
            _fd.Leave();
        }
    }

    /// <summary>The key <see cref="GreDatagram.Source"/> uses for <paramref name="address"/>.</summary>
    public static uint AddressKey(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[4];
        return address.TryWriteBytes(bytes, out var written) && written == 4
            ? BinaryPrimitives.ReadUInt32LittleEndian(bytes)
            : throw new ArgumentException("not an IPv4 address", nameof(address));
    }

    /// <summary>Validates the IPv4 header of a raw datagram and finds the GRE packet after it.</summary>
    public static bool TryLocateGre(ReadOnlySpan<byte> datagram, out GreDatagram gre)
    {
        gre = default;
        if (datagram.Length < 20 || datagram[0] >> 4 != 4)
        {
            return false;
        }
        var headerLength = (datagram[0] & 0x0F) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (headerLength < 20 || totalLength < headerLength || totalLength > datagram.Length || datagram[9] != GreProtocol)
        {
            return false;
        }
        gre = new GreDatagram(BinaryPrimitives.ReadUInt32LittleEndian(datagram[12..]), headerLength, totalLength - headerLength);
        return true;
    }

    /// <summary>Wakes a blocked receive (shutdown), waits for calls in flight to leave the descriptor, then closes it.</summary>
    public void Dispose() => _fd.Dispose();
}
