using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Auth;

/// <summary>
/// What every exchange shares: status and its one-time transitions, the output, the retransmit/wait timer,
/// drop counting. Subclasses are the per-method state machines; everything runs in the session's loop.
/// </summary>
internal abstract class AuthProtocolBase : IAuthProtocol
{
    private readonly ProtocolTimer _timer;
    private IAuthOutput? _output;
    private bool _disposed;

    protected AuthProtocolBase(AuthMethod method, AuthEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(environment.Time);
        ArgumentNullException.ThrowIfNull(environment.Random);
        ArgumentNullException.ThrowIfNull(environment.Options);
        environment.Options.Validate();
        Method = method;
        Environment = environment;
        _timer = new ProtocolTimer(environment.Time, OnTimerExpired, environment.Dispatch);
    }

    public AuthMethod Method { get; }

    public PppProtocol Protocol => Method == AuthMethod.Pap ? PppProtocol.Pap : PppProtocol.Chap;

    public AuthStatus Status { get; private set; }

    public string? FailureReason { get; private set; }

    public string? UserName { get; protected set; }

    public MppeKeyMaterial? KeyMaterial { get; protected set; }

    public long DroppedPackets { get; private set; }

    public event Action<IAuthProtocol>? Completed;

    protected AuthEnvironment Environment { get; }

    protected AuthOptions Options => Environment.Options;

    protected bool IsFinished => Status == AuthStatus.Failed || _disposed;

    public void Start(IAuthOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_output is not null)
        {
            throw new InvalidOperationException("The exchange was already started.");
        }

        _output = output;
        Status = AuthStatus.InProgress;
        OnStart();
    }

    public void Receive(ReadOnlySpan<byte> packet)
    {
        if (_output is null || IsFinished || !AuthPacket.TryParse(packet, out var parsed))
        {
            Drop();
            return;
        }

        OnPacket(parsed);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _timer.Dispose();
        OnDispose();
    }

    protected abstract void OnStart();

    protected abstract void OnPacket(AuthPacket packet);

    protected abstract void OnTimerExpired();

    protected virtual void OnDispose()
    {
    }

    protected void Send(ReadOnlySpan<byte> packet)
    {
        if (_output is not null && !_disposed)
        {
            _output.Send(Protocol, packet);
        }
    }

    protected void StartTimer(TimeSpan dueIn)
    {
        if (!_disposed)
        {
            _timer.Start(dueIn);
        }
    }

    protected void StopTimer() => _timer.Stop();

    protected void Drop() => DroppedPackets++;

    /// <summary>Becomes Succeeded; raises Completed only on the first success.</summary>
    protected void Succeed()
    {
        if (Status == AuthStatus.Succeeded || IsFinished)
        {
            return;
        }

        Status = AuthStatus.Succeeded;
        Completed?.Invoke(this);
    }

    /// <summary>Becomes Failed for good (also after an earlier success: a failed re-challenge) and raises Completed.</summary>
    protected void Fail(string reason)
    {
        if (IsFinished)
        {
            return;
        }

        StopTimer();
        FailureReason = reason;
        Status = AuthStatus.Failed;
        OnFailed();
        Completed?.Invoke(this);
    }

    protected virtual void OnFailed()
    {
    }

    protected byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Environment.Random(bytes);
        return bytes;
    }

    protected byte RandomByte()
    {
        Span<byte> one = stackalloc byte[1];
        Environment.Random(one);
        return one[0];
    }
}
