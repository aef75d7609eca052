using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Auth;

/// <summary>
/// What every exchange shares: status and its one-time transitions, the output, the retransmit/wait timer,
/// drop counting. Subclasses are the per-method state machines; everything runs in the session's loop.
/// </summary>
internal abstract class AuthProtocolBase : IAuthProtocol
{
    private readonly ProtocolTimer _timer;
    private readonly ProtocolTimer _verifyTimer;
    private PendingVerification? _verification;
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
        _verifyTimer = new ProtocolTimer(environment.Time, OnVerifyTimeout, environment.Dispatch);
    }

    public AuthMethod Method { get; }

    public PppProtocol Protocol => AuthMethods.Of(Method).Protocol;

    public AuthStatus Status { get; private set; }

    public string? FailureReason { get; private set; }

    public string? UserName { get; protected set; }

    public MppeKeyMaterial? KeyMaterial { get; protected set; }

    public string? Account { get; protected set; }

    public SessionAuthorization Authorization { get; protected set; } = SessionAuthorization.None;

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
        _verifyTimer.Dispose();
        CancelVerification();
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

    /// <summary>A verifier is judging a Response and has not answered yet.</summary>
    protected bool IsVerifying => _verification is not null;

    /// <summary>
    /// Asks <paramref name="verifier"/> to judge <paramref name="check"/>; <paramref name="onVerdict"/> runs in the
    /// session's loop: before this returns when the verifier answers at once, else dispatched when it answers, or
    /// with an Unavailable verdict after <see cref="AuthOptions.VerifyTimeout"/>. Nothing runs once the exchange
    /// failed or was disposed.
    /// </summary>
    protected void Verify(ICredentialVerifier verifier, CredentialCheck check, Action<CredentialVerdict> onVerdict)
    {
        CancelVerification();
        var pending = new PendingVerification(this, onVerdict);
        _verification = pending;
        _verifyTimer.Start(Options.VerifyTimeout);
        pending.Handle = verifier.Verify(check, pending.Complete);
        pending.Started();
    }

    private void Deliver(PendingVerification pending, CredentialVerdict verdict)
    {
        if (!ReferenceEquals(_verification, pending) || IsFinished)
        {
            return;
        }
        _verification = null;
        _verifyTimer.Stop();
        pending.OnVerdict(verdict);
    }

    private void OnVerifyTimeout()
    {
        if (_verification is { } pending)
        {
            pending.Handle?.Dispose();
            Deliver(pending, CredentialVerdict.Unavailable($"{AuthMethods.Describe(Method)}: no verdict on the credentials within {Options.VerifyTimeout.TotalSeconds:0.#} s."));
        }
    }

    private void CancelVerification()
    {
        _verifyTimer.Stop();
        if (_verification is { } pending)
        {
            _verification = null;
            pending.Handle?.Dispose();
        }
    }

    private void Post(Action action)
    {
        if (Environment.Dispatch is { } dispatch)
        {
            dispatch(action);
        }
        else
        {
            action();
        }
    }

    /// <summary>
    /// Carries one verdict into the loop. A verifier may answer inside <see cref="ICredentialVerifier.Verify"/>
    /// (then it is delivered when Verify returns, on the loop's own thread) or later on its own thread (then it is
    /// dispatched); the lock decides which, since the answer may race the return.
    /// </summary>
    private sealed class PendingVerification(AuthProtocolBase owner, Action<CredentialVerdict> onVerdict)
    {
        private readonly Lock _gate = new();
        private bool _started;
        private CredentialVerdict? _early;

        public Action<CredentialVerdict> OnVerdict { get; } = onVerdict;

        public IDisposable? Handle { get; set; }

        public void Complete(CredentialVerdict verdict)
        {
            lock (_gate)
            {
                if (!_started)
                {
                    _early = verdict;
                    return;
                }
            }
            owner.Post(() => owner.Deliver(this, verdict));
        }

        public void Started()
        {
            CredentialVerdict? early;
            lock (_gate)
            {
                _started = true;
                early = _early;
            }
            if (early is not null)
            {
                owner.Deliver(this, early);
            }
        }
    }

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
        CancelVerification();
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
