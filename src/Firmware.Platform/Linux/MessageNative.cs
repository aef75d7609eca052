using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Firmware.Platform.Linux;

/// <summary>
/// The socket calls the batched GRE path needs that Tmds.LibC does not bind (recvmmsg, sendmmsg), with their
/// structures, as source-generated (AOT-clean) imports. Layouts are LP64 Linux (x86-64 and arm64).
/// </summary>
internal static unsafe partial class MessageNative
{
    public const int AfInet = 2;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int SolSocket = 1;
    public const int SoSndbuf = 7;
    public const int SoRcvbuf = 8;
    public const int SoRcvtimeo = 20;
    public const int SoSndbufforce = 32;
    public const int SoRcvbufforce = 33;
    public const int MsgDontwait = 0x40;
    public const int MsgWaitforone = 0x10000;
    public const int ShutRdwr = 2;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int SockaddrInLength = 16;

    /// <summary>Datagrams per system call: enough to drain a burst, small enough for the stack.</summary>
    public const int MaxBatch = 64;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    /// <summary>A sockaddr_in for the address key (the address's bytes in network order read little-endian), port 0.</summary>
    public static void WriteSockaddrIn(Span<byte> destination, uint addressKey)
    {
        destination[..SockaddrInLength].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(destination, AfInet);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], addressKey);
    }

    public static PlatformException LastError(string operation) => new(operation, Marshal.GetLastPInvokeError());

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, byte* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, uint valueLength);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    public static partial int RecvMMsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    public static partial int SendMMsg(int fd, MMsgHdr* messages, uint count, int flags);

    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int fd, byte* data, nuint length, int flags, byte* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    public static partial nint WriteVector(int fd, IoVec* vectors, int count);
}
