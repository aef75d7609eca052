using System.Net;
using System.Net.Sockets;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Hooks;
using Firmware.Gateway.Logging;
using Firmware.Gateway.Server;
using Firmware.Platform.Netlink;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Pptp;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// The PPTP server: accepts control connections on TCP 1723, runs a tunnel per call (one connection may carry
/// many: pptp-linux puts every tunnel to one server on one), authenticates against the configured users with
/// lockout, hands out addresses from the pool (or a user's static one), routes each client's address to the
/// server's TUN, and frees everything when a tunnel ends.
/// </summary>
internal sealed partial class ServerRuntime : ITunnelSessionHost, IControlChannelHost, IAsyncDisposable
{
    /// <summary>Server: wait for the Start-Control-Connection-Request after TCP accept (clients send it at once).</summary>
    public static readonly TimeSpan StartRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>From TCP accept to a successful login, whatever the peer does meanwhile.</summary>
    public static readonly TimeSpan LoginDeadline = TimeSpan.FromSeconds(30);

    /// <summary>A refused connection gets this long to send its SCCRQ and read why it was refused.</summary>
    public static readonly TimeSpan RefusalDeadline = TimeSpan.FromSeconds(5);

    /// <summary>Refused connections being answered at once; beyond it a refusal closes at once (a flood of them).</summary>
    public const int MaxRefusalsInProgress = 32;

    /// <summary>Connections not yet logged in, at most (they do not count as sessions): twice the sessions, at least 16.</summary>
    public int MaxPendingLogins => Math.Max(16, 2 * _options.MaxSessions);

    /// <summary>
    /// Calls on one control connection still logging in, at most: each holds a PPP session and an address before
    /// anyone has proved who they are. pptp-linux starting a handful of tunnels at once stays below it.
    /// </summary>
    public const int MaxPendingCallsPerConnection = 8;

    private readonly ServerOptions _options;
    private readonly PppOptions _ppp;
    private readonly GatewayContext _context;
    private readonly TunBridge _tun;
    private readonly int _tunIndex;
    private readonly AddressPool _pool;
    private readonly LoginLockout _lockout;
    private readonly Lock _gate = new();
    private readonly Dictionary<TunnelSession, SessionInfo> _sessions = [];
    /// <summary>Open control connections; Evicted once one was asked to make room.</summary>
    private readonly Dictionary<ControlChannel, bool> _channels = [];
    private readonly Dictionary<IPAddress, int> _connectionsPerSource = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private Socket? _listener;
    private Task? _acceptLoop;
    private volatile IUserStore _users;
    private volatile bool _lastCallGreBlocked;

    private sealed class SessionInfo(LockoutVerifier verifier)
    {
        public LockoutVerifier Verifier { get; } = verifier;
        /// <summary>Session-Timeout and Idle-Timeout from RADIUS; disposed with the session.</summary>
        public ITimer? Limit { get; set; }
        public IPAddress? Address { get; set; }
        public bool StaticAddress { get; set; }
        /// <summary>The account that logged in; null while the connection has not.</summary>
        public string? User { get; set; }
        public bool Routed { get; set; }
        /// <summary>The peer's IPv6CP interface identifier once its link-local address is routed to it.</summary>
        public ulong? Ipv6Peer { get; set; }
        /// <summary>Acct-Session-Id: names the session to RADIUS in accounting and in Disconnect-Requests.</summary>
        public string AcctSessionId { get; } = AcctSessionIds.Next();
        /// <summary>Its accounting once the network is up; null without RADIUS accounting.</summary>
        public RadiusAccountant.Session? Accounting { get; set; }
        /// <summary>Monotonic timestamp of the accounting Start (Acct-Session-Time counts from it).</summary>
        public long AccountingSince { get; set; }
    }

    public ServerRuntime(ServerOptions options, PppOptions ppp, GatewayContext context, TunBridge tun, int tunIndex)
    {
        _options = options;
        _ppp = ppp;
        _context = context;
        _tun = tun;
        _tunIndex = tunIndex;
        var reserved = new List<IPAddress> { options.LocalAddress };
        reserved.AddRange(options.Users.Where(u => u.Address is not null).Select(u => u.Address!));
        _pool = new AddressPool(options.Pool.Select(r => (r.FirstAddress, r.LastAddress)), reserved);
        _lockout = new LoginLockout(context.Time, options.Lockout.Failures, options.Lockout.Window, options.Lockout.Duration);
        _users = ConfigUserStore.From(options.Users);
        if (options.Radius is { } radius)
        {
            _radius = new RadiusClient(radius, context.Time, context.Logger);
            _judges = new LoginJudges(() => _users, _radius, radius.Methods, radius.FallbackToLocal, options.Mppe.Required);
            if (radius.Accounting is { } accounting)
            {
                _accountant = new RadiusAccountant(_radius, accounting, context.Time, context.Logger);
            }
        }
        else
        {
            _judges = LoginJudges.Local(() => _users);
        }
        _refusalLog = new LogThrottle(context.Time, linesPerInterval: 5, TimeSpan.FromSeconds(10));
        _dhcpInform = DhcpInformAnswerer.For(options, context.Pool);
        StartDynamicAuthorization(options);
    }

    private readonly RadiusClient? _radius;
    private readonly RadiusAccountant? _accountant;
    private readonly LoginJudges _judges;
    private readonly LogThrottle _refusalLog;
    private readonly DhcpInformAnswerer? _dhcpInform;
    private readonly SemaphoreSlim _refusalSlots = new(MaxRefusalsInProgress, MaxRefusalsInProgress);

    /// <summary>The RADIUS client's counters; null when logins are checked only locally.</summary>
    public RadiusCounters? RadiusCounters => _radius?.Counters;

    /// <summary>The session's Acct-Session-Id when RADIUS is configured (status shows it); null otherwise or once it is gone.</summary>
    public string? AcctSessionIdOf(TunnelSession session)
    {
        lock (_gate)
        {
            return _radius is not null && _sessions.TryGetValue(session, out var info) ? info.AcctSessionId : null;
        }
    }

    /// <summary>RADIUS accounting's counters; null when accounting is off.</summary>
    public AccountingCounters? AccountingCounters => _accountant?.Counters;

    public int SessionCount
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    public IReadOnlyList<TunnelSession> Sessions
    {
        get
        {
            lock (_gate)
            {
                return [.. _sessions.Keys];
            }
        }
    }

    /// <summary>Open control connections, with or without calls (the watchdog probes their loops too).</summary>
    public IReadOnlyList<ControlChannel> Channels
    {
        get
        {
            lock (_gate)
            {
                return [.. _channels.Keys];
            }
        }
    }

    /// <summary>Closes every control connection, and every call with it.</summary>
    public void CloseAll(string reason, SessionEndCause cause)
    {
        foreach (var channel in Channels)
        {
            channel.RequestClose(reason, cause);
        }
    }

    /// <summary>Users changed in the config: new logins use the new set; live sessions stay.</summary>
    public void ReplaceUsers(IEnumerable<UserOptions> users) => _users = ConfigUserStore.From(users);

    /// <summary>True while the TCP 1723 accept loop runs (the watchdog asks).</summary>
    public bool IsAccepting => _acceptLoop is { IsCompleted: false };

    public void Start()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(_options.Listen, PptpControlCodec.TcpPort));
        _listener.Listen(64);
        LogListening(_context.Logger, _options.Listen, _tun.Name, _pool.Capacity);
        _acceptLoop = AcceptLoopAsync(_stop.Token);
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            Admit(socket, cancellationToken);
        }
    }

    private void Admit(Socket socket, CancellationToken cancellationToken)
    {
        var source = ((IPEndPoint)socket.RemoteEndPoint!).Address.MapToIPv4();
        var sourceText = source.ToString();
        string? refusal = null;
        var refusalCode = StartControlResult.GeneralError;
        ControlChannel? evicted = null;
        lock (_gate)
        {
            if (_lockout.SourceLockedUntil(sourceText) is { } until)
            {
                refusal = $"source locked out after repeated authentication failures until {until:HH:mm:ss}";
                refusalCode = StartControlResult.NotAuthorized;
            }
            else if (AuthenticatedCount() >= _options.MaxSessions)
            {
                refusal = $"server is full ({_options.MaxSessions} sessions)";
            }
            else if (_connectionsPerSource.GetValueOrDefault(source) >= _options.MaxConnectionsPerSource)
            {
                refusal = $"more than {_options.MaxConnectionsPerSource} connections from one address";
            }
            else
            {
                // Connections that have not logged in have their own limit; at the limit the least advanced
                // (then the oldest) makes room, so idle or slow connections cannot lock real clients out.
                var pending = _channels.Where(c => c.Key.Progress != LoginProgress.Authenticated && !c.Value).Select(c => c.Key).ToList();
                if (pending.Count >= MaxPendingLogins)
                {
                    evicted = pending.OrderBy(c => c.Progress).ThenBy(c => c.StartedTimestamp).First();
                    _channels[evicted] = true;
                }
                _connectionsPerSource[source] = _connectionsPerSource.GetValueOrDefault(source) + 1;
            }
        }
        if (refusal is not null)
        {
            var answered = _refusalSlots.Wait(0, CancellationToken.None);
            if (_refusalLog.TryTake(out var suppressed))
            {
                var code = refusalCode == StartControlResult.NotAuthorized ? "'not authorized'" : "'general error: no resources'";
                var how = answered ? $"answering Start-Control-Connection-Reply {code}" : "closed at once (too many refusals in progress)";
                LogRefused(_context.Logger, source, $"{refusal}; {how}" + (suppressed == 0 ? "" : $" ({suppressed} more refusals not logged)"));
            }
            _context.Events.ConnectionRefused();
            if (!answered)
            {
                socket.Dispose();
                return;
            }
            var refusing = RefuseAsync(socket, refusalCode, cancellationToken);
            lock (_gate)
            {
                _running.Add(refusing);
                _running.RemoveAll(t => t.IsCompleted);
            }
            return;
        }
        if (evicted is not null)
        {
            _context.Events.ConnectionRefused();
            evicted.RequestClose($"evicted: {MaxPendingLogins} connections were waiting to log in, and this one had come the least far", SessionEndCause.NasRequest);
        }

        socket.NoDelay = true;
        ControlChannel.EnableKeepAlive(socket);
        var control = PppOptionsBuilder.Control(_ppp) with
        {
            StartTimeout = StartRequestTimeout,
            // Call IDs key GRE by (peer address, call ID): unique among every connection from that address.
            CallIdAvailable = id => !_context.Gre.IsRegistered(source, id),
        };
        var channel = new ControlChannel($"server:{source}", PptpControlRole.Server, control, this, socket, _context.Time,
            _context.Logger, LoginDeadline);
        lock (_gate)
        {
            _channels[channel] = false;
        }
        LogAccepted(_context.Logger, source);
        var run = Task.Run(() => channel.RunAsync(cancellationToken), CancellationToken.None);
        lock (_gate)
        {
            _running.Add(run);
            _running.RemoveAll(t => t.IsCompleted);
        }
    }

    // ---- IControlChannelHost (each call on that connection's loop) ----

    public TunnelSession? AdmitCall(ControlChannel channel, OutgoingCallRequest request, out PptpCallDecision refusal)
    {
        refusal = PptpCallDecision.NoResources;
        string? why = null;
        IPAddress? address = null;
        lock (_gate)
        {
            var pendingHere = _sessions.Count(s => s.Key.Channel == channel && s.Value.User is null);
            if (_stop.IsCancellationRequested)
            {
                why = "the server is stopping";
            }
            else if (AuthenticatedCount() >= _options.MaxSessions)
            {
                why = $"server is full ({_options.MaxSessions} sessions)";
            }
            else if (pendingHere >= MaxPendingCallsPerConnection)
            {
                why = $"{pendingHere} calls on this control connection are still logging in, the most allowed";
            }
            else if ((address = _pool.Allocate()) is null)
            {
                why = $"address pool exhausted ({_pool.Capacity} addresses in use)";
            }
        }
        if (why is not null)
        {
            LogCallRefused(_context.Logger, channel.Peer, request.CallId, why);
            _context.Events.ConnectionRefused();
            return null;
        }

        var source = channel.Peer;
        var verifier = new LockoutVerifier(_judges, _lockout, source.ToString());
        var options = new TunnelSessionOptions
        {
            // The connection's first call carries its name; later ones are numbered (hooks and status tell them apart).
            Name = channel.CallsEver == 0 ? channel.Name : $"{channel.Name}#{channel.CallsEver + 1}",
            Role = PptpControlRole.Server,
            Ppp = PppOptionsBuilder.Server(_ppp, _options),
            LoginDeadline = LoginDeadline,
            Mtu = _ppp.Mtu,
            ClampMss = _ppp.ClampMss,
        };
        TunnelSession? session = null;
        options = options with
        {
            AuthFactory = new DelegateAuthFactory((method, role) => AuthProtocolFactory.Create(method, role,
                _context.AuthEnvironment(session!, _ppp), verifier: verifier)),
            EncryptionLayer = TunnelSecurity.EncryptionLayer(_options.Mppe, PppSessionRole.Server),
        };
        session = new TunnelSession(options, this, channel, _context.Gre, _context.Pool, _context.Time, _context.Logger);
        lock (_gate)
        {
            _sessions[session] = new SessionInfo(verifier) { Address = address };
        }
        var run = Task.Run(() => session.RunAsync(_stop.Token), CancellationToken.None);
        lock (_gate)
        {
            _running.Add(run);
            _running.RemoveAll(t => t.IsCompleted);
        }
        return session;
    }

    public void OnChannelClosed(ControlChannel channel, string reason)
    {
        lock (_gate)
        {
            _channels.Remove(channel);
            var source = channel.Peer;
            if (_connectionsPerSource.TryGetValue(source, out var n))
            {
                if (n <= 1)
                {
                    _connectionsPerSource.Remove(source);
                }
                else
                {
                    _connectionsPerSource[source] = n - 1;
                }
            }
        }
        if (channel.CallsEver == 0)
        {
            // A connection that never carried a call leaves no session line behind; say here why it went.
            LogChannelClosed(_context.Logger, channel.Peer, reason);
        }
    }

    /// <summary>
    /// Tells a refused client why (RFC 2637's SCCRP result and error codes) instead of closing on it: reads its
    /// Start-Control-Connection-Request, answers, closes. Bounded like everything before a login: one message of
    /// bytes, <see cref="RefusalDeadline"/> in all, at most <see cref="MaxRefusalsInProgress"/> at once (one slot,
    /// taken by the caller, is released here).
    /// </summary>
    private async Task RefuseAsync(Socket socket, StartControlResult result, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = new CancellationTokenSource(RefusalDeadline, _context.Time);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            var refusal = new PptpStartRefusal(result, PptpErrorCode.NoResource, PppOptionsBuilder.Control(_ppp));
            var input = new byte[PptpControlCodec.MaximumMessageLength];
            var reply = new byte[PptpStartRefusal.ReplyLength];
            while (true)
            {
                var read = await socket.ReceiveAsync(input, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                var length = 0;
                var step = read == 0 ? PptpRefusalStep.Close : refusal.OnBytesReceived(input.AsSpan(0, read), reply, out length);
                if (step == PptpRefusalStep.SendReplyAndClose)
                {
                    await socket.SendAsync(reply.AsMemory(0, length), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                    socket.Shutdown(SocketShutdown.Send);
                }
                if (step != PptpRefusalStep.NeedMoreData)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A peer that says nothing, or goes away, is simply closed.
        }
        finally
        {
            socket.Dispose();
            _refusalSlots.Release();
        }
    }

    /// <summary>Sessions that logged in (under <see cref="_gate"/>).</summary>
    private int AuthenticatedCount() => _sessions.Count(s => s.Value.User is not null);

    // ---- ITunnelSessionHost (each call on that session's loop) ----

    public PppSessionOptions PreparePpp(TunnelSession session, PppSessionOptions options)
    {
        IPAddress? address;
        lock (_gate)
        {
            address = _sessions[session].Address;
        }
        return options with { Ipcp = options.Ipcp! with { PeerAddress = address } };
    }

    public void OnAuthentication(TunnelSession session, bool succeeded, string? user, string? reason)
    {
        var source = session.Peer.ToString();
        SessionInfo info;
        lock (_gate)
        {
            info = _sessions[session];
        }
        // Limits count the account the store matched ("DOMAIN\alice" and "alice" are one account), never
        // the spelling the peer sent; a name that matched nothing counts against the source only.
        var account = info.Verifier.Account;
        if (!succeeded)
        {
            var locked = !info.Verifier.Unjudged && _lockout.RecordFailure(account, source);
            var why = info.Verifier.LockedOut ? $"account or source locked out ({reason ?? "refused"})" : reason ?? "authentication failed";
            LogAuthFailed(_context.Logger, user ?? "?", session.Peer, why);
            if (locked)
            {
                LogLockedOut(_context.Logger, account ?? "(unknown name)", session.Peer, _options.Lockout.Duration.TotalMinutes);
            }
            _context.Events.AuthenticationFailed();
            return;
        }

        account ??= user ?? "";
        var config = _options.Users.FirstOrDefault(u => string.Equals(u.Name, account, StringComparison.Ordinal));
        var authorization = info.Verifier.Authorization;
        // RADIUS's Framed-IP-Address wins over a configured user's address (the RADIUS server is the authority
        // for the accounts it checks); both are claimed the same way.
        var fixedAddress = authorization.FramedAddress ?? config?.Address;
        string? refusal = null;
        _lockout.RecordSuccess(account);
        lock (_gate)
        {
            info.User = account;
            var live = _sessions.Count(s => s.Key != session && string.Equals(s.Value.User, account, StringComparison.Ordinal));
            if (AuthenticatedCount() > _options.MaxSessions)
            {
                refusal = $"server is full ({_options.MaxSessions} sessions)";
            }
            else if (config is not null && live >= config.MaxSessions)
            {
                refusal = $"user '{account}' already has {live} session(s), the most allowed";
            }
            else if (authorization.FramedAddress is { } framed && framed.Equals(_options.LocalAddress))
            {
                refusal = $"RADIUS gave user '{account}' the server's own tunnel address {framed}";
            }
            else if (fixedAddress is not null)
            {
                if (info.Address is not null)
                {
                    _pool.Release(info.Address);
                }
                if (!_pool.TryClaim(fixedAddress))
                {
                    refusal = $"{(authorization.FramedAddress is null ? "static" : "RADIUS Framed-IP")} address {fixedAddress} of user '{account}' is in use";
                    info.Address = null;
                }
                else
                {
                    info.Address = fixedAddress;
                    info.StaticAddress = true;
                    session.AssignPeerAddress(fixedAddress);
                }
            }
        }
        if (refusal is not null)
        {
            LogRefused(_context.Logger, session.Peer, refusal);
            session.RequestClose(refusal, SessionEndCause.NasRequest);
            return;
        }
        LogAuthenticated(_context.Logger, account, session.Peer, info.Verifier.Reason ?? "");
        LimitSession(session, info, authorization);
    }

    /// <summary>
    /// Session-Timeout ends the session that long after login; Idle-Timeout when no data packet went either way
    /// for that long (checked every few seconds against the session's counters, never per packet).
    /// </summary>
    private void LimitSession(TunnelSession session, SessionInfo info, SessionAuthorization authorization)
    {
        if (authorization.SessionTimeout is null && authorization.IdleTimeout is null)
        {
            return;
        }
        var time = _context.Time;
        var loggedIn = time.GetTimestamp();
        var lastActive = loggedIn;
        var lastPackets = -1L;
        var period = TimeSpan.FromSeconds(Math.Clamp(
            Math.Min(authorization.SessionTimeout?.TotalSeconds ?? double.MaxValue, authorization.IdleTimeout?.TotalSeconds ?? double.MaxValue) / 4, 0.25, 5));
        var timer = time.CreateTimer(_ =>
        {
            var now = time.GetTimestamp();
            var packets = session.PacketsSent + session.PacketsReceived;
            if (packets != lastPackets)
            {
                (lastPackets, lastActive) = (packets, now);
            }
            if (authorization.SessionTimeout is { } limit && time.GetElapsedTime(loggedIn, now) >= limit)
            {
                session.RequestClose($"session timeout from RADIUS ({limit.TotalSeconds:0} s)", SessionEndCause.SessionTimeout);
            }
            else if (authorization.IdleTimeout is { } idle && time.GetElapsedTime(lastActive, now) >= idle)
            {
                session.RequestClose($"idle timeout from RADIUS (no traffic for {idle.TotalSeconds:0} s)", SessionEndCause.IdleTimeout);
            }
        }, null, period, period);
        lock (_gate)
        {
            if (_sessions.ContainsKey(session))
            {
                // A CoA may have set limits between login and here: one timer per session.
                info.Limit?.Dispose();
                info.Limit = timer;
                return;
            }
        }
        timer.Dispose(); // closed meanwhile
    }

    /// <summary>
    /// The session's network is up: RADIUS accounting starts (when it is on), with the address the session has and
    /// the Class attributes of its Access-Accept; each record reads the session's counters when it is made.
    /// </summary>
    private void StartAccounting(TunnelSession session, SessionInfo info, IPAddress framed)
    {
        if (_accountant is null)
        {
            return;
        }
        var authorization = info.Verifier.Authorization;
        var user = info.User ?? session.Negotiated?.UserName ?? "";
        var since = _context.Time.GetTimestamp();
        info.AccountingSince = since;
        var identity = new AccountingRecord
        {
            StatusType = AcctStatusType.Start,
            SessionId = info.AcctSessionId,
            UserName = user,
            Authentic = authorization.FromRadius ? AcctAuthentic.Radius : AcctAuthentic.Local,
            NasPort = session.LocalCallId,
            FramedAddress = framed,
            CallingStationId = session.Peer.ToString(),
            CalledStationId = session.Local.ToString(),
            Classes = authorization.Classes,
            EventTimestamp = since,
        };
        var accounting = _accountant.Begin(info.AcctSessionId, type =>
        {
            var now = _context.Time.GetTimestamp();
            return identity with
            {
                StatusType = type,
                EventTimestamp = now,
                // Rounded, not truncated: .NET's timers run on a coarse clock and may fire a few ms early, so an
                // Interim-Update due after 1 s said 0 s (a CI run of RadiusAccountingTests, 2026-12-04).
                SessionSeconds = (uint)Math.Round(_context.Time.GetElapsedTime(since, now).TotalSeconds, MidpointRounding.AwayFromZero),
                InputOctets = (ulong)session.BytesReceived,
                OutputOctets = (ulong)session.BytesSent,
                InputPackets = (ulong)session.PacketsReceived,
                OutputPackets = (ulong)session.PacketsSent,
            };
        }, authorization.InterimInterval);
        lock (_gate)
        {
            if (_sessions.ContainsKey(session))
            {
                info.Accounting = accounting;
                return;
            }
        }
        // Closed while the Start was being made: OnClosed found no accounting to end, so end it here.
        _accountant.End(accounting, TerminateCause(session.EndCause));
    }

    /// <summary>Our teardown causes in RFC 2866's words.</summary>
    private static AcctTerminateCause TerminateCause(SessionEndCause cause) => cause switch
    {
        SessionEndCause.PeerRequest => AcctTerminateCause.UserRequest,
        SessionEndCause.LostCarrier => AcctTerminateCause.LostCarrier,
        SessionEndCause.SessionTimeout => AcctTerminateCause.SessionTimeout,
        SessionEndCause.IdleTimeout => AcctTerminateCause.IdleTimeout,
        SessionEndCause.AdminReset => AcctTerminateCause.AdminReset,
        SessionEndCause.ServiceStop => AcctTerminateCause.AdminReboot,
        SessionEndCause.PortError => AcctTerminateCause.PortError,
        SessionEndCause.NasRequest => AcctTerminateCause.NasRequest,
        SessionEndCause.NegotiationFailed => AcctTerminateCause.ServiceUnavailable,
        _ => AcctTerminateCause.NasError,
    };

    /// <summary>The last call that connected got no GRE from its peer, and no session has come up since (the LED shows it).</summary>
    public bool LastCallGreBlocked => _lastCallGreBlocked;

    public void OnGreBlocked(TunnelSession session)
    {
        _lastCallGreBlocked = true;
        _context.Events.GreBlocked();
    }

    public void OnNetworkUp(TunnelSession session, PppNegotiatedParameters negotiated)
    {
        _lastCallGreBlocked = false;
        var peer = negotiated.PeerAddress;
        if (peer is null)
        {
            session.RequestClose("IPCP gave the client no address", SessionEndCause.NegotiationFailed);
            return;
        }
        try
        {
            // The route carries this tunnel's MTU (the TUN is shared, and peers negotiate different MRUs), so the
            // kernel answers larger DF packets towards this client with "fragmentation needed" instead of our
            // sending what the peer cannot take. Replace, not add: a stale route (e.g. left by a crash) may be there.
            _context.Netlink.ReplaceRoute(new RouteSpec(new IPNetwork(peer, 32), null, _tunIndex, Mtu: session.EffectiveMtu));
        }
        catch (Firmware.Platform.Linux.PlatformException e)
        {
            LogRouteFailed(_context.Logger, peer, e.Message);
            session.RequestClose($"could not route {peer}: {e.Message}", SessionEndCause.NasError);
            return;
        }
        SessionInfo info;
        lock (_gate)
        {
            info = _sessions[session];
            info.Routed = true;
        }
        session.InnerSource = InnerSourceFilter.For(peer, negotiated.PeerInterfaceId);
        _tun.Route(peer, session);
        StartAccounting(session, info, peer);
        LogUp(_context.Logger, negotiated.UserName ?? "?", session.Peer, peer, _tun.Name, negotiated.EncryptionUp ? "MPPE" : "none");
        _context.Events.Changed();
        _context.RunHook(_context.Hooks.IpUp, session, negotiated, _tun.Name);
    }

    public void OnIpv6Up(TunnelSession session, PppNegotiatedParameters negotiated)
    {
        var local = negotiated.LocalInterfaceId!.Value;
        var peer = negotiated.PeerInterfaceId!.Value;
        var peerAddress = Ipv6LinkLocal.Address(peer);
        if (!_tun.RouteLinkLocal(peer, session))
        {
            // Another tunnel has that link-local address: taking it over would take that tunnel's IPv6 too.
            LogIpv6NotCarried(_context.Logger, session.Peer, $"its IPv6 interface identifier ({peerAddress}) is another tunnel's");
            return;
        }
        try
        {
            // The shared TUN's own link-local address (the same on every tunnel, see PppOptionsBuilder: adding it
            // again changes nothing), and a host route to the peer's with this tunnel's MTU, as for IPv4.
            _context.Netlink.AddAddress(_tunIndex, Ipv6LinkLocal.Address(local), null, 64);
            _context.Netlink.ReplaceRoute(new RouteSpec(new IPNetwork(peerAddress, 128), null, _tunIndex, Mtu: session.EffectiveMtu));
        }
        catch (Firmware.Platform.Linux.PlatformException e)
        {
            _tun.UnrouteLinkLocal(peer, session);
            LogIpv6NotCarried(_context.Logger, session.Peer, e.Message);
            return;
        }
        lock (_gate)
        {
            if (_sessions.TryGetValue(session, out var info))
            {
                info.Ipv6Peer = peer;
            }
        }
        session.InnerSource = InnerSourceFilter.For(negotiated.PeerAddress, peer);
        LogIpv6Up(_context.Logger, session.Peer, peerAddress, _tun.Name);
    }

    public void DeliverPacket(TunnelSession session, PppProtocol protocol, Span<byte> packet)
    {
        if (!session.InnerSource.Allows(packet))
        {
            session.CountSpoofedSource();
            _context.Events.SpoofedSource();
            return;
        }
        // Windows asks for its split-tunnel routes by DHCPINFORM: answered here, into its own tunnel.
        if (_dhcpInform?.TryAnswer(session, packet) == true)
        {
            return;
        }
        _tun.Write(packet, session.TunWrites);
    }

    public void OnClosed(TunnelSession session, string reason)
    {
        SessionInfo? info;
        lock (_gate)
        {
            _sessions.Remove(session, out info);
            info?.Limit?.Dispose();
            if (info?.Address is not null)
            {
                _pool.Release(info.Address);
            }
        }
        if (info?.Accounting is { } accounting)
        {
            _accountant!.End(accounting, TerminateCause(session.EndCause));
        }
        if (info?.Ipv6Peer is { } ipv6Peer)
        {
            _tun.UnrouteLinkLocal(ipv6Peer, session);
            try
            {
                _context.Netlink.DeleteRoute(new RouteSpec(new IPNetwork(Ipv6LinkLocal.Address(ipv6Peer), 128), null, _tunIndex));
            }
            catch (Firmware.Platform.Linux.PlatformException)
            {
                // The TUN may be gone already, taking its routes with it.
            }
        }
        if (info is { Routed: true, Address: not null })
        {
            _tun.Unroute(info.Address, session);
            try
            {
                _context.Netlink.DeleteRoute(new RouteSpec(new IPNetwork(info.Address, 32), null, _tunIndex));
            }
            catch (Firmware.Platform.Linux.PlatformException)
            {
                // The TUN may be gone already, taking its routes with it.
            }
            if (session.Negotiated is { } negotiated)
            {
                _context.RunHook(_context.Hooks.IpDown, session, negotiated, _tun.Name);
            }
        }
        LogClosed(_context.Logger, info?.User ?? "-", session.Peer, reason);
        _context.Events.Changed();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        Task[] running;
        lock (_gate)
        {
            running = [.. _running];
        }
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _dynamicAuthorization?.Dispose();
        if (_accountant is not null)
        {
            // The sessions' Stop records leave before the client's sockets close (a server that does not answer
            // costs at most this).
            await _accountant.FlushAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            _accountant.Dispose();
        }
        _radius?.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "server listening on {Address}:1723, tunnel interface {Tun}, {Capacity} addresses in the pool")]
    private static partial void LogListening(ILogger logger, IPAddress address, string tun, int capacity);

    [LoggerMessage(Level = LogLevel.Information, Message = "control connection from {Source}")]
    private static partial void LogAccepted(ILogger logger, IPAddress source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused {Source}: {Reason}")]
    private static partial void LogRefused(ILogger logger, IPAddress source, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused call {CallId} from {Source}: {Reason}; answered Outgoing-Call-Reply 'general error: no resources'")]
    private static partial void LogCallRefused(ILogger logger, IPAddress source, ushort callId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "control connection from {Source} closed without a call: {Reason}")]
    private static partial void LogChannelClosed(ILogger logger, IPAddress source, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "authentication failed for user '{User}' from {Source}: {Reason}")]
    private static partial void LogAuthFailed(ILogger logger, string user, IPAddress source, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "user '{User}' / source {Source} locked out for {Minutes} min after repeated authentication failures")]
    private static partial void LogLockedOut(ILogger logger, string user, IPAddress source, double minutes);

    [LoggerMessage(Level = LogLevel.Information, Message = "user '{User}' from {Source} authenticated: {Reason}")]
    private static partial void LogAuthenticated(ILogger logger, string user, IPAddress source, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "session up: user '{User}' from {Source} is {Address} on {Tun} (encryption: {Encryption})")]
    private static partial void LogUp(ILogger logger, string user, IPAddress source, IPAddress address, string tun, string encryption);

    [LoggerMessage(Level = LogLevel.Information, Message = "IPv6 up for {Source}: {Address} on {Tun}")]
    private static partial void LogIpv6Up(ILogger logger, IPAddress source, IPAddress address, string tun);

    [LoggerMessage(Level = LogLevel.Warning, Message = "IPv6 of {Source} not carried: {Reason}")]
    private static partial void LogIpv6NotCarried(ILogger logger, IPAddress source, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not add the route to {Address}: {Reason}")]
    private static partial void LogRouteFailed(ILogger logger, IPAddress address, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "session closed: user '{User}' from {Source}: {Reason}")]
    private static partial void LogClosed(ILogger logger, string user, IPAddress source, string reason);
}
