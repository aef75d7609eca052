using System.Runtime.InteropServices;
using System.Text;
using Firmware.Platform.Linux;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Firmware.Platform.Tun;

/// <summary>
/// A Linux TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI): raw IP packets, no packet-information header.
/// The descriptor is non-blocking: a read takes the next packet straight away while the kernel has one
/// queued (one system call per packet under load) and only an empty queue sends the reader to poll() on the
/// device and an eventfd, so <see cref="Dispose"/> wakes it promptly.
/// The interface lives as long as this object (it is not persistent).
/// </summary>
public sealed unsafe class TunDevice : ITunDevice
{
    private const int IffTun = 0x0001;
    private const int IffNoPi = 0x1000;
    private const int TunSetIff = 0x400454ca; // _IOW('T', 202, int)
    private const int IfNameSize = 16;
    private const int IfReqSize = 40;

    private readonly int _fd;
    private readonly int _wakeFd;
    private int _closed;

    private TunDevice(int fd, int wakeFd, string name)
    {
        _fd = fd;
        _wakeFd = wakeFd;
        Name = name;
    }

    public string Name { get; }

    /// <summary>
    /// Creates the interface. <paramref name="requestedName"/> may hold a "%d" pattern (e.g. "pptp%d") or be
    /// empty to let the kernel choose. Needs CAP_NET_ADMIN.
    /// </summary>
    public static TunDevice Open(string requestedName)
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
        *(short*)(request + IfNameSize) = IffTun | IffNoPi;
        if (ioctl(fd, TunSetIff, request) < 0)
        {
            var error = PlatformException.FromErrno($"TUNSETIFF {requestedName}");
            _ = close(fd);
            throw error;
        }

        var name = Marshal.PtrToStringAnsi((nint)request) ?? requestedName;
        var wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wakeFd < 0)
        {
            var error = PlatformException.FromErrno("eventfd");
            _ = close(fd);
            throw error;
        }
        return new TunDevice(fd, wakeFd, name);
    }

    public int Read(Span<byte> buffer)
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
