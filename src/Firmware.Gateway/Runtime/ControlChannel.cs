using System.Net;
using System.Net.Sockets;
using Firmware.Protocol;
using Firmware.Protocol.Pptp;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>How far a connection has come towards a login; the server evicts the least advanced first.</summary>
public enum LoginProgress
{
    /// <summary>TCP is up; no Start-Control-Connection-Request yet.</summary>
    Connected,
    /// <summary>The control connection is established; no call yet.</summary>
    ControlEstablished,
    /// <summary>A call is up: LCP and authentication run.</summary>
    CallUp,
    /// <summary>The peer authenticated.</summary>
    Authenticated,
}

/// <summary>What a control connection asks of the server or client that owns it. Called on the connection's loop.</summary>
public interface IControlChannelHost
{
    /// <summary>
    /// Server: the peer asks for a call. Returns the tunnel that will carry it (not yet started), or null and the
    /// refusal to answer in the Outgoing-Call-Reply.
    /// </summary>
    TunnelSession? AdmitCall(ControlChannel channel, OutgoingCallRequest request, out PptpCallDecision refusal);

    /// <summary>The control connection is gone; every call it carried has been told.</summary>
    void OnChannelClosed(ControlChannel channel, string reason);
}

/// <summary>
/// One PPTP control connection (TCP 1723) and the calls it carries. RFC 2637 lets one control connection carry
/// many calls, and pptp-linux's call manager does exactly that for every tunnel to the same server, so a call is
/// its own <see cref="TunnelSession"/> with its own loop, and this connection runs only the control protocol on
/// a loop of its own. Events for a call are posted into that call's loop; a call's requests of the control
/// connection (clear me) are posted into this one. Clearing one call leaves the others up; losing the control
/// connection ends all of them.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The connection's own loop disposes its parts when it ends (FinishLoop); no other thread may.")]
public sealed partial class ControlChannel : IPptpControlHost
{
    /// <summary>
    /// Server: a control connection left without a call (the peer cleared its last one) is stopped after this long,
    /// unless a new call comes: pptp-linux's call manager places the next call at once or stops the connection itself.
    /// </summary>
    public static readonly TimeSpan IdleWithoutCalls = TimeSpan.FromSeconds(30);

    private readonly IControlChannelHost _host;
    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SessionLoop _loop = new();
    private readonly PptpControlConnection _control;
    private readonly ControlStreamWriter _writer;
    private readonly SemaphoreSlim _controlBytesHandled = new(0, 1);
    private readonly ProtocolTimer? _loginDeadline;
    private readonly ProtocolTimer _idle;
    private readonly TimeSpan? _loginDeadlineLength;
    private readonly Dictionary<PptpCall, TunnelSession> _calls = [];
    private readonly Queue<TunnelSession> _toPlace = new();
    private volatile int _progress;
    private volatile int _callCount;
    private volatile bool _acceptsMoreCalls = true;
    private int _callsEver;
    private volatile bool _closed;

    public ControlChannel(string name, PptpControlRole role, PptpControlOptions control, IControlChannelHost host,
        Socket connectedSocket, TimeProvider time, ILogger logger, TimeSpan? loginDeadline = null)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(connectedSocket);
        Name = name;
        Role = role;
        _host = host;
        _socket = connectedSocket;
        _time = time;
        _logger = logger;
        Peer = ((IPEndPoint)connectedSocket.RemoteEndPoint!).Address.MapToIPv4();
        Local = ((IPEndPoint)connectedSocket.LocalEndPoint!).Address.MapToIPv4();
        StartedTimestamp = time.GetTimestamp();
        _control = new PptpControlConnection(role, control with { LocalAddress = Local, PeerAddress = Peer }, this, time, Post);
        _writer = new ControlStreamWriter(connectedSocket, () => Post(() => Close(
            $"the peer stopped reading the control connection ({ControlStreamWriter.MaxQueuedBytes / 1024} KiB unsent)", SessionEndCause.LostCarrier)));
        _loginDeadlineLength = loginDeadline;
        if (loginDeadline is { } deadline)
        {
            _loginDeadline = new ProtocolTimer(time, () => Close(
                $"no login within {deadline.TotalSeconds:0} s of connecting (stuck before {DescribeProgress(Progress)})"), Post);
        }
        _idle = new ProtocolTimer(time, () => Close(
            $"no call on the control connection for {IdleWithoutCalls.TotalSeconds:0} s"), Post);
    }

    public string Name { get; }
    public PptpControlRole Role { get; }
    public IPAddress Peer { get; }
    public IPAddress Local { get; }

    /// <summary>Monotonic timestamp of the TCP connection, for ages and the oldest-first eviction.</summary>
    public long StartedTimestamp { get; }

    /// <summary>How far towards a login this connection has come (read from any thread): the furthest of its calls.</summary>
    public LoginProgress Progress => (LoginProgress)_progress;

    /// <summary>Calls the connection carries now (read from any thread).</summary>
    public int CallCount => _callCount;

    /// <summary>
    /// Client: whether another tunnel may place its call here (read from any thread). False once the connection
    /// closes, once the server refused a call on it (it may take only one, as pptpd does), or at the Maximum
    /// Channels the server announced.
    /// </summary>
    public bool AcceptsMoreCalls => _acceptsMoreCalls && !_closed
        && (_control.Peer is not { MaximumChannels: > 0 } peer || _callCount < peer.MaximumChannels);

    /// <summary>
    /// TCP keepalive on a control connection: a peer that vanished without FIN or RST is noticed in about two
    /// minutes even where no PPTP echo is due (60 s idle, then 6 probes 10 s apart).
    /// </summary>
    public static void EnableKeepAlive(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 60);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 6);
    }

    /// <summary>Runs the control connection until it closes. A client sends its SCCRQ at once; a server waits for the peer's.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var loop = _loop.RunAsync(Handle, OnLoopError);
        var reader = ReadControlAsync(cancellationToken);
        using (cancellationToken.Register(() => Post(() => Close("service stopping", SessionEndCause.ServiceStop))))
        {
            Post(_control.Start);
            if (_loginDeadline is not null)
            {
                Post(() => _loginDeadline.Start(_loginDeadlineLength!.Value));
            }
            await loop.ConfigureAwait(false);
        }
        _writer.Close();
        _socket.Dispose();
        await reader.ConfigureAwait(false);
        _controlBytesHandled.Dispose();
    }

    /// <summary>Runs <paramref name="action"/> on the connection's loop.</summary>
    public void Post(Action action)
    {
        if (!_loop.Post(action))
        {
            // Loop already finished: nothing left to act on.
        }
    }

    /// <summary>Completes once the connection's loop has run everything queued before it (the watchdog's probe).</summary>
    public Task PingLoopAsync() => _loop.PingAsync();

    /// <summary>Asks the connection to close, with every call on it (posted into its loop).</summary>
    public void RequestClose(string reason, SessionEndCause cause = SessionEndCause.AdminReset) => Post(() => Close(reason, cause));

    /// <summary>Client: places a call for <paramref name="session"/> once the connection is established (posted).</summary>
    public void PlaceCall(TunnelSession session) => Post(() =>
    {
        if (_closed)
        {
            session.OnControlClosed("control connection closed before the call was placed", SessionEndCause.LostCarrier);
            return;
        }
        _toPlace.Enqueue(session);
        if (_control.State == PptpControlState.Established)
        {
            PlaceQueuedCalls();
        }
    });

    /// <summary>A call of this connection has logged in: the connection's own login deadline is met.</summary>
    internal void OnCallAuthenticated() => Post(() =>
    {
        _loginDeadline?.Stop();
        _progress = (int)LoginProgress.Authenticated;
    });

    /// <summary>
    /// The tunnel carrying <paramref name="call"/> has ended (posted from its loop). Clears the call if it is still
    /// live. <paramref name="endConnection"/>: the tunnel was ended from our side, so a connection left with no
    /// calls is stopped at once; a call the peer cleared leaves the connection up for its next call, for a while.
    /// </summary>
    internal void OnTunnelEnded(PptpCall call, bool endConnection) => Post(() =>
    {
        if (call.IsLive && _control.State == PptpControlState.Established)
        {
            _control.ClearCall(call);
        }
        // A client's Call-Clear-Request awaits its Call-Disconnect-Notify; the tunnel is gone either way.
        _calls.Remove(call);
        _callCount = _calls.Count;
        if (_calls.Count > 0 || _toPlace.Count > 0 || _closed)
        {
            return;
        }
        if (endConnection || Role == PptpControlRole.Client)
        {
            Close("its last call ended");
        }
        else
        {
            _idle.Start(IdleWithoutCalls);
        }
    });

    /// <summary>
    /// Reads the control connection one chunk at a time: the next read starts only after the loop has handled
    /// the last chunk, so a peer that sends faster than we answer is held back by TCP itself instead of
    /// growing a queue here (an Echo-Request flood whose replies are never read cannot fill our memory).
    /// </summary>
    private async Task ReadControlAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                var length = n;
                if (!_loop.Post(() =>
                {
                    try
                    {
                        _control.OnBytesReceived(buffer.AsSpan(0, length));
                    }
                    finally
                    {
                        _controlBytesHandled.Release();
                    }
                }))
                {
                    return;
                }
                await _controlBytesHandled.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        Post(_control.OnTransportClosed);
    }

    private void Handle(SessionWork work)
    {
        if (work.Kind == SessionWorkKind.Action)
        {
            work.Action!();
        }
    }

    private void OnLoopError(Exception error)
    {
        LogInternalError(_logger, error, Name);
        _loop.CloseAfterError(() => Close($"internal error: {error.GetType().Name}: {error.Message}", SessionEndCause.NasError));
    }

    private void PlaceQueuedCalls()
    {
        while (_toPlace.TryDequeue(out var session))
        {
            if (!_control.TryPlaceCall(out var call) || call is null)
            {
                session.OnControlClosed(_control.Peer is { MaximumChannels: > 0 } peer && _control.Calls.Count >= peer.MaximumChannels
                    ? $"the server takes at most {peer.MaximumChannels} call(s) on one control connection"
                    : "could not place the call", SessionEndCause.NasError);
                continue;
            }
            _calls[call] = session;
            _callCount = _calls.Count;
            _callsEver++;
            session.ListenForCall(call);
        }
    }

    // ---- IPptpControlHost ----

    // The loop never blocks on TCP: messages go to a byte-capped queue that a writer drains.
    void IPptpControlHost.SendControl(ReadOnlySpan<byte> message) => _writer.Enqueue(message);

    void IPptpControlHost.CloseTransport() => _writer.CloseAfterFlush();

    void IPptpControlHost.OnEstablished(PptpControlConnection connection)
    {
        _progress = Math.Max(_progress, (int)LoginProgress.ControlEstablished);
        if (Role == PptpControlRole.Client)
        {
            PlaceQueuedCalls();
        }
    }

    void IPptpControlHost.OnClosed(PptpControlConnection connection, PptpTeardownReason reason)
        => Close(reason == PptpTeardownReason.StartRejected
            ? $"the server refused the control connection: {DescribeRefusal(connection.PeerStartResult, connection.PeerStartError)}"
            : $"control connection closed ({Describe(reason)})", reason switch
            {
                PptpTeardownReason.PeerStop => SessionEndCause.PeerRequest,
                PptpTeardownReason.TransportClosed or PptpTeardownReason.EchoTimeout or PptpTeardownReason.StartTimeout => SessionEndCause.LostCarrier,
                PptpTeardownReason.LocalStop => SessionEndCause.AdminReset,
                _ => SessionEndCause.PortError,
            });

    private TunnelSession? _admitted;

    PptpCallDecision IPptpControlHost.DecideOutgoingCall(PptpControlConnection connection, OutgoingCallRequest request)
    {
        if (_closed)
        {
            return PptpCallDecision.NoResources;
        }
        _admitted = _host.AdmitCall(this, request, out var refusal);
        return _admitted is null ? refusal : PptpCallDecision.Accept();
    }

    void IPptpControlHost.OnCallConnected(PptpCall call)
    {
        TunnelSession? session;
        if (Role == PptpControlRole.Server)
        {
            session = _admitted;
            _admitted = null;
            if (session is null)
            {
                _control.ClearCall(call);
                return;
            }
            _calls[call] = session;
            _callCount = _calls.Count;
            _callsEver++;
            _idle.Stop();
        }
        else if (!_calls.TryGetValue(call, out session))
        {
            _control.ClearCall(call);
            return;
        }
        _progress = Math.Max(_progress, (int)LoginProgress.CallUp);
        session.OnCallConnected(call, new PptpCallParameters(call.LocalCallId, call.PeerCallId, call.PeerReceiveWindow, call.LocalReceiveWindow));
    }

    void IPptpControlHost.OnCallCleared(PptpCall call)
    {
        if (call.ClearReason is PptpCallClearReason.RefusedByPeer or PptpCallClearReason.ReplyTimeout)
        {
            _acceptsMoreCalls = false;
        }
        if (!_calls.Remove(call, out var session))
        {
            return;
        }
        _callCount = _calls.Count;
        session.OnCallCleared(call.ClearReason switch
        {
            PptpCallClearReason.RefusedByPeer => $"the server refused the call: {DescribeCallRefusal(call.PeerOutgoingResult, call.PeerErrorCode)}",
            PptpCallClearReason.ReplyTimeout => "no Outgoing-Call-Reply from the server",
            PptpCallClearReason.ControlConnectionClosed => "control connection closed",
            _ => "call cleared by the peer",
        }, call.ClearReason switch
        {
            PptpCallClearReason.ControlConnectionClosed or PptpCallClearReason.ReplyTimeout => SessionEndCause.LostCarrier,
            PptpCallClearReason.RefusedByPeer => SessionEndCause.NasRequest,
            PptpCallClearReason.ClearRequestedByPeer or PptpCallClearReason.DisconnectedByPeer => SessionEndCause.PeerRequest,
            _ => SessionEndCause.AdminReset,
        });
        if (_calls.Count == 0 && _toPlace.Count == 0 && !_closed)
        {
            if (Role == PptpControlRole.Client)
            {
                Close("its last call was cleared");
            }
            else
            {
                _idle.Start(IdleWithoutCalls);
            }
        }
    }

    /// <summary>The number of calls this connection has carried, for naming the next one (on the loop).</summary>
    internal int CallsEver => _callsEver;

    /// <summary>What a refusing SCCRP says, in words a person can act on (RFC 2637 section 2.2's codes).</summary>
    private static string DescribeRefusal(StartControlResult? result, PptpErrorCode error) => result switch
    {
        StartControlResult.GeneralError when error == PptpErrorCode.NoResource
            => "general error, no resources (the server is full or has too many connections from this address)",
        StartControlResult.GeneralError => $"general error {(byte)error} ({error})",
        StartControlResult.CommandChannelExists => "a control connection from this address already exists",
        StartControlResult.NotAuthorized => "not authorized (this address may be locked out after failed logins)",
        StartControlResult.ProtocolVersionNotSupported => "protocol version not supported",
        _ => $"result code {(byte?)result}",
    };

    /// <summary>What a refusing Outgoing-Call-Reply says (RFC 2637 section 2.8's result codes).</summary>
    private static string DescribeCallRefusal(OutgoingCallResult? result, PptpErrorCode error) => result switch
    {
        OutgoingCallResult.GeneralError when error == PptpErrorCode.NoResource
            => "general error, no resources (the server is full, its address pool is used up, or it takes no more calls on this connection)",
        OutgoingCallResult.GeneralError => $"general error {(byte)error} ({error})",
        null => "no result",
        { } r => $"{r} (result code {(byte)r})",
    };

    private static string DescribeProgress(LoginProgress progress) => progress switch
    {
        LoginProgress.Connected => "Start-Control-Connection-Request",
        LoginProgress.ControlEstablished => "Outgoing-Call-Request",
        _ => "authentication",
    };

    private static string Describe(PptpTeardownReason reason) => reason switch
    {
        PptpTeardownReason.LocalStop => "stopped here",
        PptpTeardownReason.PeerStop => "the peer stopped it",
        PptpTeardownReason.TransportClosed => "TCP connection closed",
        PptpTeardownReason.EchoTimeout => "peer did not answer PPTP echo",
        PptpTeardownReason.StartTimeout => "no answer to Start-Control-Connection",
        PptpTeardownReason.StartRejected => "peer refused the control connection",
        PptpTeardownReason.VersionNotSupported => "protocol version not supported",
        PptpTeardownReason.FramingError => "malformed control message",
        PptpTeardownReason.ProtocolViolation => "protocol violation",
        PptpTeardownReason.Collision => "control connection collision",
        _ => reason.ToString(),
    };

    /// <summary>Ends the connection once: every call told, Stop-Control-Connection sent, resources freed.</summary>
    private void Close(string reason, SessionEndCause cause = SessionEndCause.AdminReset)
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        _acceptsMoreCalls = false;
        _loginDeadline?.Stop();
        _idle.Stop();
        var calls = _calls.Values.ToArray();
        _calls.Clear();
        _callCount = 0;
        while (_toPlace.TryDequeue(out var waiting))
        {
            waiting.OnControlClosed(reason, cause);
        }
        foreach (var session in calls)
        {
            session.OnControlClosed(reason, cause);
        }
        if (_control.State == PptpControlState.Established)
        {
            foreach (var call in _control.Calls.ToArray())
            {
                _control.ClearCall(call);
            }
            _control.Stop(StopControlReason.StopLocalShutdown);
        }
        _host.OnChannelClosed(this, reason);
        // Give the Stop-Control-Connection a moment to leave, then let the loop drain and end.
        _ = Task.Delay(TimeSpan.FromMilliseconds(200), _time).ContinueWith(_ => Post(FinishLoop), TaskScheduler.Default);
    }

    private void FinishLoop()
    {
        _control.Dispose();
        _loginDeadline?.Dispose();
        _idle.Dispose();
        _writer.CloseAfterFlush();
        _loop.Complete();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "control connection {Name}: internal error; closing it and its calls")]
    private static partial void LogInternalError(ILogger logger, Exception error, string name);
}

/// <summary>What a call's tunnel needs of its call, copied out of the control connection's loop.</summary>
public readonly record struct PptpCallParameters(ushort LocalCallId, ushort PeerCallId, ushort PeerReceiveWindow, ushort LocalReceiveWindow);
