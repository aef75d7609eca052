namespace Firmware.Platform.Linux;

/// <summary>
/// A socket descriptor used from several threads at once (the GRE reader, every session sending). Each system
/// call enters and leaves; closing first shuts the socket down, which wakes a blocked receive, then waits for
/// the calls in flight to leave before the number is released, so no call ever lands on a descriptor the
/// process has since reused for something else.
/// </summary>
internal sealed class FileDescriptor(int fd) : IDisposable
{
    private const int Closed = int.MinValue / 2;
    private int _users;
    private int _closing;

    public int Value => fd;

    public bool IsClosed => Volatile.Read(ref _users) < 0;

    /// <summary>False once closing has begun; otherwise the caller must <see cref="Leave"/>.</summary>
    public bool TryEnter(out int descriptor)
    {
        descriptor = fd;
        if (Interlocked.Increment(ref _users) > 0)
        {
            return true;
        }
        Interlocked.Decrement(ref _users);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _users);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }
        Interlocked.Add(ref _users, Closed);
        _ = MessageNative.Shutdown(fd, MessageNative.ShutRdwr);
        var spin = new SpinWait();
        var deadline = Environment.TickCount64 + 2000;
        while (Volatile.Read(ref _users) != Closed && Environment.TickCount64 < deadline)
        {
            spin.SpinOnce();
        }
        _ = MessageNative.Close(fd);
    }
}
