using System.Runtime.InteropServices;
using System.Text;
using Firmware.Platform.Linux;
using Firmware.Protocol.Ip;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Firmware.Platform.Tun;

/// <summary>
/// A Linux TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI): raw IP packets, no packet-information header.
/// The descriptor is non-blocking: a read takes the next packet straight away while the kernel has one
/// queued and only an empty queue sends the reader to poll() on the device and an eventfd, so
/// <see cref="Dispose"/> wakes it promptly.
/// With offloads (IFF_VNET_HDR and TUNSETOFFLOAD: checksums, TSO for IPv4 and IPv6, as wireguard-go asks
/// for) the kernel's TCP hands us up to 64 KiB per read instead of one MTU and skips its own segmentation
/// and checksums; we cut the super-packet into the tunnel's segments here (<see cref="GsoSegmenter"/>), so
/// one read system call serves dozens of packets. Writes carry a virtio-net header too, which lets a
/// tunnel's received segments go to the kernel joined (<see cref="WriteSuperPacket"/>).
/// The interface lives as long as this object (it is not persistent).
/// </summary>
public sealed unsafe class TunDevice : ITunDevice
{
    private const int IffTun = 0x0001;
    private const int IffNoPi = 0x1000;
    private const int IffVnetHdr = 0x4000;
    private const int TunSetIff = 0x400454ca; // _IOW('T', 202, int)
    private const int TunSetOffload = 0x400454d0; // _IOW('T', 208, unsigned int)
    private const int TunSetVnetHdrSz = 0x400454d8; // _IOW('T', 216, int)
    private const uint TunFCsum = 0x01, TunFTso4 = 0x02, TunFTso6 = 0x04;
    /// <summary>A super-packet: 64 KiB of IP packet after the virtio-net header.</summary>
    private const int ReadBufferSize = VirtioNetHeader.Size + 65535;
    private const int IfNameSize = 16;
    private const int IfReqSize = 40;

    private readonly int _fd;
    private readonly int _wakeFd;
    private int _closed;
    /// <summary>With offloads: what the last read returned, and the segments of it not yet handed out.</summary>
    private readonly byte[]? _readBuffer;
    private int _readLength;
    private GsoPlan _plan;
    private int _nextSegment;
    private long _superPacketsRead, _superPacketsWritten, _refused;

    private TunDevice(int fd, int wakeFd, string name, bool offloads)
    {
        _fd = fd;
        _wakeFd = wakeFd;
        Name = name;
        TakesSuperPackets = offloads;
        _readBuffer = offloads ? new byte[ReadBufferSize] : null;
    }

    public string Name { get; }

    public bool TakesSuperPackets { get; }

    public TunOffloadCounts OffloadCounts => new(
        Interlocked.Read(ref _superPacketsRead), Interlocked.Read(ref _superPacketsWritten), Interlocked.Read(ref _refused));

    /// <summary>
    /// Creates the interface. <paramref name="requestedName"/> may hold a "%d" pattern (e.g. "pptp%d") or be
    /// empty to let the kernel choose. Needs CAP_NET_ADMIN. With <paramref name="offloads"/> the device asks
    /// for them and goes without if the kernel refuses (see <see cref="TakesSuperPackets"/>).
    /// </summary>
    public static TunDevice Open(string requestedName, bool offloads = true)
    {
        ArgumentNullException.ThrowIfNull(requestedName);
        if (Encoding.ASCII.GetByteCount(requestedName) >= IfNameSize)
        {
            throw new ArgumentException($"interface name '{requestedName}' is longer than {IfNameSize - 1} characters", nameof(requestedName));
        }

        int fd;
        fixed (byte* path = "/dev/net/tun\0"u8)
        {
            fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK, default(mode_t));
        }
        if (fd < 0)
        {
            throw PlatformException.FromErrno("open /dev/net/tun");
        }

        var request = stackalloc byte[IfReqSize];
        new Span<byte>(request, IfReqSize).Clear();
        Encoding.ASCII.GetBytes(requestedName, new Span<byte>(request, IfNameSize - 1));
        *(short*)(request + IfNameSize) = (short)(IffTun | IffNoPi | (offloads ? IffVnetHdr : 0));
        if (ioctl(fd, TunSetIff, request) < 0)
        {
            var error = PlatformException.FromErrno($"TUNSETIFF {requestedName}");
            _ = close(fd);
            throw error;
        }
        if (offloads)
        {
            // The header stays on every read and write once IFF_VNET_HDR is set, offloads or not; a kernel
            // that refuses them just never hands us a super-packet.
            var headerSize = VirtioNetHeader.Size;
            _ = ioctl(fd, TunSetVnetHdrSz, &headerSize);
            _ = ioctl(fd, TunSetOffload, (void*)(nuint)(TunFCsum | TunFTso4 | TunFTso6));
        }

        var name = Marshal.PtrToStringAnsi((nint)request) ?? requestedName;
        var wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wakeFd < 0)
        {
            var error = PlatformException.FromErrno("eventfd");
            _ = close(fd);
            throw error;
        }
        return new TunDevice(fd, wakeFd, name, offloads);
    }

    public int Read(Span<byte> buffer)
    {
        if (_readBuffer is null)
        {
            return ReadDevice(buffer);
        }
        while (true)
        {
            if (_nextSegment < _plan.Count)
            {
                var length = GsoSegmenter.WriteSegment(_plan, _readBuffer.AsSpan(VirtioNetHeader.Size, _readLength), _nextSegment++, buffer);
                if (length >= 0)
                {
                    return length;
                }
                Interlocked.Increment(ref _refused); // a segment larger than the caller's buffer: more than any MTU of ours
                continue;
            }
            var n = ReadDevice(_readBuffer);
            if (n < 0)
            {
                return -1;
            }
            _readLength = n - VirtioNetHeader.Size;
            _nextSegment = 0;
            var header = n >= VirtioNetHeader.Size ? VirtioNetHeader.Read(_readBuffer) : default;
            if (_readLength < 0 || !GsoSegmenter.TryPlan(header, _readBuffer.AsSpan(VirtioNetHeader.Size, _readLength), out _plan, out _))
            {
                _plan = default;
                Interlocked.Increment(ref _refused);
                continue;
            }
            if (_plan.Tcp)
            {
                Interlocked.Increment(ref _superPacketsRead);
            }
        }
    }

    private int ReadDevice(Span<byte> buffer)
    {
        var fds = stackalloc pollfd[2];
        fixed (byte* p = buffer)
        {
            while (Volatile.Read(ref _closed) == 0)
            {
                var n = (long)read(_fd, p, (size_t)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }
                var e = errno;
                if (e == EINTR)
                {
                    continue;
                }
                if (e != EAGAIN)
                {
                    return -1; // EFAULT/EBADFD: the interface was deleted under us
                }

                fds[0] = new pollfd { fd = _fd, events = POLLIN };
                fds[1] = new pollfd { fd = _wakeFd, events = POLLIN };
                var ready = poll(fds, 2, -1);
                if (ready < 0)
                {
                    if (errno == EINTR)
                    {
                        continue;
                    }
                    return -1;
                }
                const int Failed = 0x008 | 0x010 | 0x020; // POLLERR | POLLHUP | POLLNVAL
                if (fds[1].revents != 0 || (fds[0].revents & Failed) != 0)
                {
                    return -1;
                }
            }
        }
        return -1;
    }

    public bool Write(ReadOnlySpan<byte> packet)
    {
        if (_readBuffer is not null)
        {
            return WriteWithHeader(default, packet);
        }
        if (Volatile.Read(ref _closed) != 0)
        {
            return false;
        }
        fixed (byte* p = packet)
        {
            while (true)
            {
                var n = (long)write(_fd, p, (size_t)packet.Length);
                if (n >= 0)
                {
                    return true;
                }
                if (errno != EINTR)
                {
                    return false;
                }
            }
        }
    }

    public bool WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet)
    {
        if (_readBuffer is null)
        {
            throw new InvalidOperationException($"{Name} was opened without offloads");
        }
        if (!WriteWithHeader(header, packet))
        {
            return false;
        }
        Interlocked.Increment(ref _superPacketsWritten);
        return true;
    }

    /// <summary>One writev: the virtio-net header from the stack, the packet where it lies (no copy).</summary>
    private bool WriteWithHeader(in VirtioNetHeader header, ReadOnlySpan<byte> packet)
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return false;
        }
        var headerBytes = stackalloc byte[VirtioNetHeader.Size];
        header.Write(new Span<byte>(headerBytes, VirtioNetHeader.Size));
        var vectors = stackalloc MessageNative.IoVec[2];
        fixed (byte* p = packet)
        {
            vectors[0] = new MessageNative.IoVec { Base = headerBytes, Length = VirtioNetHeader.Size };
            vectors[1] = new MessageNative.IoVec { Base = p, Length = (nuint)packet.Length };
            while (true)
            {
                if (MessageNative.WriteVector(_fd, vectors, 2) >= 0)
                {
                    return true;
                }
                if (Marshal.GetLastPInvokeError() != MessageNative.EIntr)
                {
                    return false;
                }
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        ulong one = 1;
        _ = write(_wakeFd, &one, sizeof(ulong));
        // Closing the fd while a reader sits in poll() is safe: poll returns via the eventfd first; the
        // short grace keeps the descriptor number from being reused under a reader still leaving read().
        Thread.Sleep(1);
        _ = close(_fd);
        _ = close(_wakeFd);
    }
}
