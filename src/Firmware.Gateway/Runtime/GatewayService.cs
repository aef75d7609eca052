using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Logging;
using Firmware.Gateway.Status;
using Firmware.Platform.Gre;
using Firmware.Platform.Linux;
using Firmware.Platform.Netlink;
using Firmware.Platform.Tun;
using Firmware.Protocol.Pptp;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>Where the service keeps its runtime files; tests and the demo move them.</summary>
/// <param name="ControlSocket">The control socket's path.</param>
/// <param name="StateDirectory">Where state that must outlive a crash is kept (null: nothing is kept).</param>
internal sealed record GatewayPaths(string ControlSocket, string? StateDirectory = null);

/// <summary>
/// The running gateway: the GRE socket and buffer pool shared by all tunnels, the server (with its TUN) and
/// every configured client, forwarding/NAT for router use, and the control socket. Applies config reloads by
/// changing only what changed. Stops within a few seconds, sending Stop-Control-Connection to every peer and
/// removing every route, rule and interface it created.
/// </summary>
internal sealed partial class GatewayService : IAsyncDisposable
{
    private const string NatTable = "pptp_gateway";

    private readonly JournalLoggerSink _logs;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly GatewayPaths _paths;
    private readonly GatewayPlatform _platform;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClientRuntime> _clients = new(StringComparer.OrdinalIgnoreCase);
    private GatewayConfig _config;
    private GatewayContext? _context;
    private ServerRuntime? _server;
    private TunBridge? _serverTun;
    private ControlSocketServer? _control;
    private string? _previousForwarding;
    private bool _natInstalled;

    // Server starts and stops one at a time: a config change and the retry after a failed interface never overlap.
    private readonly SemaphoreSlim _serverChange = new(1, 1);
    private ITimer? _serverRetry;
    private volatile bool _stopping;

    /// <summary>How often a server whose interface could not be created tries again.</summary>
    public static readonly TimeSpan ServerRetryInterval = TimeSpan.FromSeconds(10);

    public GatewayService(GatewayConfig config, JournalLoggerSink logs, TimeProvider time, GatewayPaths paths, GatewayPlatform? platform = null)
    {
        _platform = platform ?? GatewayPlatform.Linux;
        _config = config;
        _logs = logs;
        _logger = logs.For("gateway");
        _time = time;
        _paths = paths;
        StartedAt = time.GetUtcNow();
        _startedTimestamp = time.GetTimestamp();
        _heapTrimmer = new HeapTrimmer(time, _logger);
    }

    private readonly HeapTrimmer _heapTrimmer;

    public DateTimeOffset StartedAt { get; }

    private readonly long _startedTimestamp;

    /// <summary>Set by the command so status can say which config file runs and how it loaded.</summary>
    public Func<(string? File, string State, Board.CardState Card)>? ConfigInfo { get; set; }

    /// <summary>Set by the command so status can say what the LEDs show and the status code.</summary>
    public Func<(Board.LedPatterns Patterns, int StatusCode)>? LedInfo { get; set; }

    /// <summary>Raised when a button or the control socket asks for a reload.</summary>
    public event Action? ReloadRequested;

    /// <summary>What the tunnels share (pool, multiplexer, netlink); null before <see cref="Start"/>. Tests look inside.</summary>
    public GatewayContext? Context => _context;

    public GatewayEvents Events => _context?.Events ?? throw new InvalidOperationException("not started");

    public void Start()
    {
        var netlink = _platform.OpenRouteNetlink();
        var pool = new PacketBufferPool();
        var gre = new GreMultiplexer(_platform.OpenGre(), pool);
        _context = new GatewayContext
        {
            Platform = _platform,
            Time = _time,
            Logger = _logs.For("tunnel"),
            Gre = gre,
            Pool = pool,
            Netlink = netlink,
            Hooks = _config.Hooks,
        };
        RemoveLeftovers(netlink);
        gre.Start();
        StartForwarding(_config.Forwarding);
        if (_config.RunsServer)
        {
            StartServer(_config.Server!);
        }
        foreach (var client in _config.Clients.Where(c => c.Enabled))
        {
            StartClient(client);
        }
        _control = new ControlSocketServer(_paths.ControlSocket, HandleCommandAsync);
        _control.Start();
        LogStarted(_logger, _config.RunsServer ? "server" : "no server", _clients.Count);
    }

    /// <summary>Why the configured server takes no calls: its interface could not be created (null otherwise).</summary>
    public string? ServerInterfaceError { get; private set; }

    /// <summary>
    /// Starts the server on its TUN. When the interface cannot be created (the sandbox has no /dev/net/tun, the
    /// name is taken by another device) the rest of the gateway runs on: the server says why in the log, the
    /// status and on the LED, and tries again every <see cref="ServerRetryInterval"/>.
    /// </summary>
    private void StartServer(ServerOptions server)
    {
        var context = _context!;
        var name = _config.Tun.ServerPrefix + "0";
        ITunDevice? tun = null;
        int index;
        try
        {
            tun = _platform.OpenTun(name);
            index = context.Netlink.GetInterfaceIndex(tun.Name);
            context.Netlink.SetMtu(index, _config.Ppp.Mtu);
            context.Netlink.AddAddress(index, server.LocalAddress, null, 32);
            context.Netlink.SetLinkUp(index, up: true);
        }
        catch (Exception e) when (e is PlatformException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            tun?.Dispose();
            var error = $"cannot create interface {name}: {e.Message}";
            if (!string.Equals(error, ServerInterfaceError, StringComparison.Ordinal))
            {
                LogServerInterfaceFailed(_logger, error, ServerRetryInterval.TotalSeconds);
            }
            ServerInterfaceError = error;
            _serverRetry ??= _time.CreateTimer(_ => _ = RetryServerAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _serverRetry.Change(ServerRetryInterval, Timeout.InfiniteTimeSpan);
            context.Events.Changed();
            return;
        }
        if (ServerInterfaceError is not null)
        {
            ServerInterfaceError = null;
            LogServerInterfaceBack(_logger, tun.Name);
            context.Events.Changed();
        }
        _serverTun = new TunBridge(tun, context.Pool, context.TunCounters);
        _serverTun.DeviceLost += bridge =>
        {
            LogTunLost(_logger, bridge.Name);
            foreach (var session in _server?.Sessions ?? [])
            {
                session.RequestClose($"interface {bridge.Name} disappeared", SessionEndCause.NasError);
            }
        };
        _serverTun.Start();
        _server = new ServerRuntime(server, _config.Ppp, context, _serverTun, index);
        _server.Start();
    }

    private async Task RetryServerAsync()
    {
        await _serverChange.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_stopping && _server is null && ServerInterfaceError is not null && _config.RunsServer)
            {
                StartServer(_config.Server!);
            }
        }
        finally
        {
            _serverChange.Release();
        }
    }

    private async Task StopServerAsync()
    {
        _serverRetry?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        ServerInterfaceError = null;
        if (_server is not null)
        {
            // The service stopping, or a config change turning the server off (an administrator's doing).
            _server.CloseAll(_stopping ? "service stopping" : "server stopping", _stopping ? SessionEndCause.ServiceStop : SessionEndCause.AdminReset);
            await _server.DisposeAsync().ConfigureAwait(false);
            _server = null;
        }
        _serverTun?.Dispose();
        _serverTun = null;
    }

    private void StartClient(ClientOptions options)
    {
        var client = new ClientRuntime(options, _config.Ppp, _context!);
        lock (_gate)
        {
            _clients[options.Name] = client;
        }
        client.Start();
    }

    private async Task StopClientAsync(string name)
    {
        ClientRuntime? client;
        lock (_gate)
        {
            _clients.Remove(name, out client);
        }
        if (client is not null)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Connects every client if none is wanted, else disconnects them all (button 1, short press).</summary>
    public void ToggleClients()
    {
        var clients = Clients;
        var anyWanted = clients.Any(c => c.Wanted);
        foreach (var client in clients)
        {
            if (anyWanted)
            {
                client.Disconnect();
            }
            else
            {
                client.Connect();
            }
        }
    }

    public IReadOnlyList<ClientRuntime> Clients
    {
        get
        {
            lock (_gate)
            {
                return [.. _clients.Values];
            }
        }
    }

    /// <summary>The server's RADIUS client's counters; null without a server or RADIUS.</summary>
    public Server.RadiusCounters? RadiusCounters => _server?.RadiusCounters;

    /// <summary>The server's Disconnect/CoA counters; null when that is off.</summary>
    public Server.DynamicAuthorizationCounters? DynamicAuthorizationCounters => _server?.DynamicAuthorizationCounters;

    /// <summary>Every live tunnel, server and client side.</summary>
    public IReadOnlyList<TunnelSession> AllSessions
    {
        get
        {
            var sessions = new List<TunnelSession>(_server?.Sessions ?? []);
            sessions.AddRange(Clients.Select(c => c.Session).OfType<TunnelSession>());
            return sessions;
        }
    }

    /// <summary>Asks the config service to reload the card's file (button, control socket).</summary>
    public void RequestReload() => ReloadRequested?.Invoke();

    /// <summary>Set by the command: handles `pptp-gateway button SCRIPT` (console driver presses).</summary>
    public Func<string, Task<string>>? PressButton { get; set; }

    public int ServerSessionCount => _server?.Sessions.Count(s => s.State == TunnelState.Up) ?? 0;

    /// <summary>The server's last connected call got no GRE from its peer and nothing has come up since.</summary>
    public bool ServerGreBlocked => _server?.LastCallGreBlocked ?? false;

    /// <summary>
    /// The watchdog's question: null when the GRE receive loop and the server's accept loop run and every
    /// tunnel's loop answers a probe within <paramref name="timeout"/>; otherwise what is stuck.
    /// </summary>
    public async Task<string?> CheckLoopsAsync(TimeSpan timeout)
    {
        var context = _context;
        if (context is null)
        {
            return "the gateway has not started";
        }
        if (!context.Gre.IsRunning)
        {
            return "the GRE receive loop has stopped";
        }
        if (_server is { IsAccepting: false })
        {
            return "the server's TCP 1723 accept loop has stopped";
        }
        var sessions = AllSessions;
        // Each tunnel's loop, and each control connection's (a connection carries one or more tunnels' calls).
        var probes = sessions.Select(s => (What: $"tunnel {s.Name}", Answer: s.PingLoopAsync()))
            .Concat((_server?.Channels ?? []).Concat(sessions.Where(s => s.Role == PptpControlRole.Client).Select(s => s.Channel))
                .Distinct().Select(c => (What: $"control connection {c.Name}", Answer: c.PingLoopAsync())))
            .ToList();
        try
        {
            await Task.WhenAll(probes.Select(p => p.Answer)).WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var stuck = probes.First(p => !p.Answer.IsCompleted).What;
            return $"{stuck} has not answered for {timeout.TotalSeconds:0.###} s";
        }
        return null;
    }

    /// <summary>One line for systemd's STATUS= (systemctl status shows it).</summary>
    public string StatusLine()
    {
        var clients = Clients;
        var up = clients.Count(c => c.Phase == ClientPhase.Up);
        return string.Create(CultureInfo.InvariantCulture,
            $"{(ServerInterfaceError is not null ? "server: not taking calls (no interface)" : _server is null ? "no server" : $"server: {ServerSessionCount} session(s) up")}; clients: {up} of {clients.Count} up");
    }

    /// <summary>Applies an accepted config change: only what changed is restarted.</summary>
    public async Task ApplyAsync(GatewayConfig next, ConfigDiff diff)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(diff);
        var previous = _config;
        _config = next;
        _logs.Minimum = next.Logging.Level;
        if (diff.ServerChanged || diff.PppChanged || diff.TunChanged || previous.RunsServer != next.RunsServer)
        {
            LogApplying(_logger, "server settings changed: restarting the server (its sessions reconnect)");
            await _serverChange.WaitAsync().ConfigureAwait(false);
            try
            {
                await StopServerAsync().ConfigureAwait(false);
                if (next.RunsServer)
                {
                    StartServer(next.Server!);
                }
            }
            finally
            {
                _serverChange.Release();
            }
        }
        else if (next.Server is not null && (diff.UsersAdded.Count + diff.UsersRemoved.Count + diff.UsersChanged.Count) > 0)
        {
            LogApplying(_logger, "users changed: new logins use the new list, live sessions stay");
            _server?.ReplaceUsers(next.Server.Users);
        }

        var restart = diff.PppChanged || diff.TunChanged;
        foreach (var name in diff.ClientsRemoved.Concat(diff.ClientsChanged).Concat(restart ? previous.Clients.Select(c => c.Name) : []).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            await StopClientAsync(name).ConfigureAwait(false);
        }
        foreach (var client in next.Clients.Where(c => c.Enabled))
        {
            bool running;
            lock (_gate)
            {
                running = _clients.ContainsKey(client.Name);
            }
            if (!running)
            {
                StartClient(client);
            }
        }
        _context!.Hooks = next.Hooks;
        if (diff.ForwardingChanged)
        {
            StopForwarding();
            StartForwarding(next.Forwarding);
        }
    }

    /// <summary>Where the ip_forward value found before our first change is kept until a clean stop restores it.</summary>
    private string? SavedForwardingPath => _paths.StateDirectory is { } dir ? Path.Combine(dir, "ip_forward.saved") : null;

    /// <summary>
    /// After a crash or kill -9 the previous run could not clean up: its routes (protocol 157, e.g. a client's
    /// host route to its server, which outlives the TUN), its nft table and ip_forward=1 stay. Remove them and
    /// put ip_forward back before starting, so this run starts from the system's own state. TUNs are not
    /// persistent: the kernel removed them with the process.
    /// </summary>
    private void RemoveLeftovers(IRouteNetlink netlink)
    {
        try
        {
            var routes = netlink.DeleteRoutesOfProtocol(RouteNetlink.GatewayRouteProtocol);
            if (routes > 0)
            {
                LogLeftovers(_logger, $"{routes} route(s) of a previous run");
            }
        }
        catch (Platform.Linux.PlatformException e)
        {
            LogLeftoversFailed(_logger, "routes", e.Message);
        }
        if (_platform.Kernel.HasNft)
        {
            // "add" then "delete" in one transaction: removes the table if it is there, and is no error if not.
            RunNft($"add table ip {NatTable}\ndelete table ip {NatTable}\n");
        }
        if (SavedForwardingPath is { } saved && File.Exists(saved))
        {
            try
            {
                var original = File.ReadAllText(saved).Trim();
                if (original is "0" or "1")
                {
                    _platform.Kernel.WriteSysctl("net.ipv4.ip_forward", original);
                    LogLeftovers(_logger, $"ip_forward restored to {original}, the value before a previous run");
                }
                File.Delete(saved);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogLeftoversFailed(_logger, "ip_forward", e.Message);
            }
        }
    }

    private void StartForwarding(ForwardingOptions forwarding)
    {
        if (!forwarding.Enabled)
        {
            return;
        }
        _previousForwarding = _platform.Kernel.WriteSysctl("net.ipv4.ip_forward", "1");
        if (SavedForwardingPath is { } saved)
        {
            try
            {
                Configuration.AtomicFile.Write(saved, System.Text.Encoding.ASCII.GetBytes(_previousForwarding + "\n"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogLeftoversFailed(_logger, "saving ip_forward", e.Message);
            }
        }
        if (!string.IsNullOrEmpty(forwarding.MasqueradeOut))
        {
            var script = $"add table ip {NatTable}\n"
                + $"add chain ip {NatTable} postrouting {{ type nat hook postrouting priority srcnat; }}\n"
                + $"add rule ip {NatTable} postrouting oifname \"{forwarding.MasqueradeOut}\" masquerade\n";
            _natInstalled = RunNft(script);
        }
    }

    private void StopForwarding()
    {
        if (_natInstalled)
        {
            RunNft($"delete table ip {NatTable}\n");
            _natInstalled = false;
        }
        if (_previousForwarding is not null)
        {
            _platform.Kernel.WriteSysctl("net.ipv4.ip_forward", _previousForwarding);
            _previousForwarding = null;
            if (SavedForwardingPath is { } saved)
            {
                File.Delete(saved);
            }
        }
    }

    /// <summary>NAT through the nft command (set up once at start, removed at stop: not on any packet path).</summary>
    private bool RunNft(string script)
    {
        if (_platform.Kernel.RunNft(script) is { } error)
        {
            LogNftFailed(_logger, error);
            return false;
        }
        return true;
    }

    public GatewayStatus Snapshot()
    {
        var sessions = new List<SessionStatus>();
        foreach (var s in _server?.Sessions ?? [])
        {
            sessions.Add(Describe(s, "server", s.Negotiated?.UserName, _time, _serverTun?.Name) with { AcctSessionId = _server?.AcctSessionIdOf(s) });
        }
        foreach (var client in Clients)
        {
            var session = client.Session;
            sessions.Add(session is null
                ? new SessionStatus { Name = client.Name, Role = "client", State = client.Phase.ToString().ToLowerInvariant(), Peer = client.Options.Server, User = client.Options.User, LastError = client.LastError }
                : Describe(session, "client", client.Options.User, _time, client.Options.Interface) with
                {
                    Name = client.Name,
                    State = client.Phase == ClientPhase.Up ? "up" : client.Phase.ToString().ToLowerInvariant(),
                    LastError = client.LastError,
                });
        }
        var (file, state, card) = ConfigInfo?.Invoke() ?? (null, "unknown", Board.CardState.Ok);
        var leds = LedInfo?.Invoke();
        return new GatewayStatus
        {
            Version = Cli.GatewayCommandLine.Version,
            StartedAt = StartedAt,
            UptimeSeconds = Math.Round(_time.GetElapsedTime(_startedTimestamp).TotalSeconds, 1),
            ConfigFile = file,
            ConfigState = state,
            Card = card.ToString().ToLowerInvariant(),
            ServerError = ServerInterfaceError,
            Leds = leds is { Patterns: var p } ? new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["power"] = p.Power.Describe(),
                ["tunnel"] = p.Tunnel.Describe(),
                ["activity"] = p.Activity.Describe(),
            } : null,
            StatusCode = leds?.StatusCode,
            Counters = Counters(),
            Sessions = sessions,
            Process = ProcessStatus.Capture(_heapTrimmer),
        };
    }

    /// <summary>The service-wide counters that count packets dropped (the text status lists those above zero).</summary>
    internal static bool IsDropCounter(string name) => name switch
    {
        "greUnknownSession" or "greOverflow" or "greSendFailures" or "tunNoSession" or "tunOverflow"
            or "tunWriteFailures" or "tunOffloadRefused" or "bufferPoolExhausted" or "spoofedInnerSource" => true,
        _ => name.StartsWith("gre", StringComparison.Ordinal) && Enum.TryParse<Protocol.Gre.GreDropReason>(name.AsSpan(3), out var reason)
            && reason != Protocol.Gre.GreDropReason.None,
    };

    private Dictionary<string, long> Counters()
    {
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        if (_context is not { } context)
        {
            return counters;
        }
        var gre = context.Gre;
        counters["greReceived"] = gre.Received;
        counters["greReceiveBatches"] = gre.ReceiveBatches;
        counters["greUnknownSession"] = gre.UnknownSession;
        counters["greOverflow"] = gre.Overflow;
        counters["greSendFailures"] = gre.Transport.SendFailures;
        foreach (var reason in Enum.GetValues<Protocol.Gre.GreDropReason>())
        {
            if (reason != Protocol.Gre.GreDropReason.None)
            {
                counters["gre" + reason] = gre.Drops[reason];
            }
        }
        var tun = context.TunCounters;
        counters["tunRead"] = tun.Read;
        counters["tunWritten"] = tun.Written;
        counters["tunNoSession"] = tun.NoSession;
        counters["tunOverflow"] = tun.Overflow;
        counters["tunWriteFailures"] = tun.WriteFailures;
        counters["tunSuperPacketsRead"] = tun.SuperPacketsRead;
        counters["tunSuperPacketsWritten"] = tun.SuperPacketsWritten;
        counters["tunOffloadRefused"] = tun.OffloadRefused;
        counters["superPacketBuffersCreated"] = context.Pool.SuperPackets.Created;
        counters["bufferPoolCreated"] = context.Pool.Created;
        counters["bufferPoolInUse"] = context.Pool.InUse;
        counters["bufferPoolExhausted"] = context.Pool.Exhausted;
        counters["connectionsRefused"] = context.Events.ConnectionsRefused;
        counters["authenticationFailures"] = context.Events.AuthenticationFailures;
        counters["spoofedInnerSource"] = context.Events.SpoofedSources;
        counters["greBlockedCalls"] = context.Events.GreBlockedCalls;
        // Server: TCP 1723 connections open now; each carries zero or more of the sessions listed.
        counters["controlConnections"] = _server?.Channels.Count ?? 0;
        if (_server?.RadiusCounters is { } radius)
        {
            counters["radiusRequests"] = radius.Requests;
            counters["radiusAccepts"] = radius.Accepts;
            counters["radiusRejects"] = radius.Rejects;
            counters["radiusNoAnswer"] = radius.NoAnswer;
            counters["radiusFailovers"] = radius.Failovers;
            counters["radiusRefusedAnswers"] = radius.RefusedAnswers;
            counters["radiusOutstanding"] = radius.Outstanding;
        }
        if (_server?.AccountingCounters is { } accounting)
        {
            counters["radiusAccountingSent"] = accounting.Sent;
            counters["radiusAccountingAnswered"] = accounting.Answered;
            counters["radiusAccountingRetried"] = accounting.Retried;
            counters["radiusAccountingPending"] = accounting.Pending;
            counters["radiusAccountingDropped"] = accounting.Dropped;
        }
        if (_server?.DynamicAuthorizationCounters is { } dynamic)
        {
            counters["radiusDynAuthRequests"] = dynamic.Requests;
            counters["radiusDynAuthAcks"] = dynamic.Acks;
            counters["radiusDynAuthNaks"] = dynamic.Naks;
            counters["radiusDisconnects"] = dynamic.SessionsClosed;
            counters["radiusCoaChanges"] = dynamic.SessionsChanged;
            counters["radiusDynAuthDuplicates"] = dynamic.Duplicates;
            counters["radiusDynAuthUnknownClients"] = dynamic.UnknownClients;
            counters["radiusDynAuthBadAuthenticators"] = dynamic.BadAuthenticators;
            counters["radiusDynAuthMalformed"] = dynamic.Malformed;
            counters["radiusDynAuthRateLimited"] = dynamic.RateLimited;
        }
        return counters;
    }

    private static Dictionary<string, long> ReorderStatus(Protocol.Gre.GreWindowCounters gre) => new(StringComparer.Ordinal)
    {
        ["held"] = gre.Reordered,
        ["recovered"] = gre.Recovered,
        ["lost"] = gre.Lost,
        ["lateAfterGiveUp"] = gre.LateAfterGiveUp,
        ["gapTimeoutMs"] = (long)gre.GapTimeout.TotalMilliseconds,
        ["depth"] = gre.ReorderDepth,
    };

    private static SessionStatus Describe(TunnelSession s, string role, string? user, TimeProvider time, string? tun) => new()
    {
        Name = s.Name,
        Role = role,
        State = s.State.ToString().ToLowerInvariant(),
        User = user,
        Peer = s.Peer.ToString(),
        LocalAddress = s.Negotiated?.LocalAddress?.ToString(),
        RemoteAddress = s.Negotiated?.PeerAddress?.ToString(),
        LocalIpv6 = s.Negotiated is { Ipv6Up: true, LocalInterfaceId: { } local } ? Ipv6LinkLocal.Address(local).ToString() : null,
        RemoteIpv6 = s.Negotiated is { Ipv6Up: true, PeerInterfaceId: { } peer } ? Ipv6LinkLocal.Address(peer).ToString() : null,
        Interface = tun,
        Mppe = s.Negotiated is null ? null : s.Negotiated.EncryptionUp ? s.EncryptionDescription ?? "on" : "off",
        AuthMethod = s.Negotiated is null ? null : (s.Negotiated.AuthenticatorMethod != Protocol.Auth.AuthMethod.None ? s.Negotiated.AuthenticatorMethod : s.Negotiated.PeerMethod).ToString(),
        UptimeSeconds = s.UpSinceTimestamp is { } up ? Math.Round(time.GetElapsedTime(up).TotalSeconds, 1) : 0,
        BytesSent = s.BytesSent,
        BytesReceived = s.BytesReceived,
        PacketsSent = s.PacketsSent,
        PacketsReceived = s.PacketsReceived,
        Drops = s.Drops(),
        MppeSync = s.MppeSync(),
        Reorder = s.GreCounters is { } gre ? ReorderStatus(gre) : null,
        Mtu = s.EffectiveMtu,
        MssClamped = s.MssClamped,
        LastError = s.State == TunnelState.Up ? null : s.LastReason,
    };

    private Task<ControlReply> HandleCommandAsync(ControlCommand command, CancellationToken cancellationToken)
    {
        switch (command.Verb)
        {
            case "status":
                return Task.FromResult(new ControlReply { Ok = true, Status = Snapshot() });
            case "connect" or "disconnect":
                ClientRuntime? client;
                lock (_gate)
                {
                    _clients.TryGetValue(command.Argument ?? "", out client);
                }
                if (client is null)
                {
                    return Task.FromResult(new ControlReply { Ok = false, Message = $"no client named '{command.Argument}' (configured: {string.Join(", ", Clients.Select(c => c.Name))})" });
                }
                if (command.Verb == "connect")
                {
                    client.Connect();
                }
                else
                {
                    client.Disconnect();
                }
                LogCommand(_logger, command.Verb, client.Name);
                return Task.FromResult(new ControlReply { Ok = true, Message = $"{command.Verb} {client.Name}: done" });
            case "button":
                return PressButtonAsync(command.Argument ?? "");
            case "reload":
                ReloadRequested?.Invoke();
                return Task.FromResult(new ControlReply { Ok = true, Message = "reload requested" });
            default:
                return Task.FromResult(new ControlReply { Ok = false, Message = $"unknown command '{command.Verb}'" });
        }
    }

    private async Task<ControlReply> PressButtonAsync(string script)
    {
        if (PressButton is null)
        {
            return new ControlReply { Ok = false, Message = "no board is running" };
        }
        var message = await PressButton(script).ConfigureAwait(false);
        return new ControlReply { Ok = message.StartsWith("pressed", StringComparison.Ordinal), Message = message };
    }

    public async ValueTask DisposeAsync()
    {
        LogStopping(_logger);
        _stopping = true;
        _serverRetry?.Dispose();
        _heapTrimmer.Dispose();
        var clients = Clients.Select(c => c.Name).ToList();
        var stops = clients.Select(StopClientAsync).Append(StopServerAsync());
        // Sessions get 3 s to say goodbye, then RADIUS accounting up to 3 s to deliver their Stop records.
        await Task.WhenAll(stops).WaitAsync(TimeSpan.FromSeconds(6)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        StopForwarding();
        if (_control is not null)
        {
            await _control.DisposeAsync().ConfigureAwait(false);
        }
        if (_context is not null)
        {
            await _context.Gre.DisposeAsync().ConfigureAwait(false);
            _context.Netlink.Dispose();
        }
        LogStopped(_logger);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "removed what a previous run left behind: {What}")]
    private static partial void LogLeftovers(ILogger logger, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not clean up after a previous run ({What}): {Reason}")]
    private static partial void LogLeftoversFailed(ILogger logger, string what, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "pptp-gateway running: {Server}, {Clients} client(s)")]
    private static partial void LogStarted(ILogger logger, string server, int clients);

    [LoggerMessage(Level = LogLevel.Information, Message = "config change: {What}")]
    private static partial void LogApplying(ILogger logger, string what);

    [LoggerMessage(Level = LogLevel.Error, Message = "interface {Tun} disappeared: closing its sessions; the service stays up")]
    private static partial void LogTunLost(ILogger logger, string tun);

    [LoggerMessage(Level = LogLevel.Error, Message = "server not taking calls: {Error}; the rest of the gateway runs on, trying again every {Seconds} s")]
    private static partial void LogServerInterfaceFailed(ILogger logger, string error, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "server interface {Tun} created: taking calls")]
    private static partial void LogServerInterfaceBack(ILogger logger, string tun);

    [LoggerMessage(Level = LogLevel.Error, Message = "NAT setup failed: {Error}")]
    private static partial void LogNftFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "command {Verb} {Name}")]
    private static partial void LogCommand(ILogger logger, string verb, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: closing tunnels")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped")]
    private static partial void LogStopped(ILogger logger);
}
