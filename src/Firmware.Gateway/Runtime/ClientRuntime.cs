using System.Net;
using System.Net.Sockets;
using Firmware.Gateway.Client;
using Firmware.Gateway.Configuration;
using Firmware.Platform.Linux;
using Firmware.Platform.Netlink;
using Firmware.Platform.Tun;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Pptp;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>Where one configured client stands, for status and LEDs.</summary>
internal enum ClientPhase
{
    Disabled,
    Dialing,
    Connecting,
    Up,
    WaitingToRedial,
    AuthFailed,
    /// <summary>The call came up over TCP but the server's GRE never arrived; stays so through the redial wait.</summary>
    GreBlocked,

    /// <summary>Its TUN interface could not be created; stays so through the redial wait.</summary>
    InterfaceFailed,
}

/// <summary>
/// One configured client: dials its server, brings the tunnel up on its own TUN, installs the configured
/// routes (a default route through the tunnel keeps a host route to the server via the old gateway, using
/// 0.0.0.0/1 + 128.0.0.0/1 so the system's own default route is never touched), writes the peer's DNS if
/// asked, and redials with exponential back-off and jitter when the link drops. Every route it adds it
/// removes again, so the system's routes are left as found.
/// </summary>
internal sealed partial class ClientRuntime : ITunnelSessionHost, IControlChannelHost, IAsyncDisposable
{
    public const string ResolvConfPath = "/run/pptp-gateway/resolv.conf";

    private readonly ClientOptions _options;
    private readonly PppOptions _ppp;
    private readonly GatewayContext _context;
    private readonly RedialBackoff _backoff;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<RouteSpec> _routes = [];
    private readonly SemaphoreSlim _wake = new(0);
    private Task? _loop;
    private TunnelSession? _session;
    private TunBridge? _tun;
    private int _tunIndex;
    private volatile bool _wanted;

    public ClientRuntime(ClientOptions options, PppOptions ppp, GatewayContext context)
    {
        _options = options;
        _ppp = ppp;
        _context = context;
        _wanted = options.Enabled;
        _backoff = new RedialBackoff(options.Redial.InitialDelay, options.Redial.MaxDelay, Random.Shared.NextDouble);
    }

    public string Name => _options.Name;

    public ClientOptions Options => _options;

    public ClientPhase Phase { get; private set; } = ClientPhase.Disabled;

    public string? LastError { get; private set; }

    public TunnelSession? Session => _session;

    public bool Wanted => _wanted;

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>`pptp-gateway connect NAME` / the button: dial now (skipping any back-off wait).</summary>
    public void Connect()
    {
        _wanted = true;
        _backoff.Reset();
        _wake.Release();
    }

    /// <summary>`pptp-gateway disconnect NAME` / the button: hang up and stay down.</summary>
    public void Disconnect()
    {
        _wanted = false;
        _session?.RequestClose("disconnected by the user");
        _wake.Release();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!_wanted)
            {
                Phase = ClientPhase.Disabled;
                _context.Events.Changed();
                await WaitAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var upBefore = await DialOnceAsync(cancellationToken).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested || !_wanted)
            {
                continue;
            }
            if (upBefore)
            {
                _backoff.Reset();
            }
            var wait = _backoff.Next();
            Phase = Phase is ClientPhase.AuthFailed or ClientPhase.GreBlocked or ClientPhase.InterfaceFailed ? Phase : ClientPhase.WaitingToRedial;
            _context.Events.Changed();
            LogRedial(_context.Logger, _options.Name, wait.TotalSeconds, LastError ?? "");
            await WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        // Woken early by Connect/Disconnect; the delay runs on the TimeProvider so tests control it.
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var woken = _wake.WaitAsync(done.Token);
        var timer = delay == Timeout.InfiniteTimeSpan
            ? Task.Delay(Timeout.InfiniteTimeSpan, done.Token)
            : Task.Delay(delay, _context.Time, done.Token);
        await ((Task)Task.WhenAny(woken, timer)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await done.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(woken, timer).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>One dial: returns true if the tunnel came up at some point.</summary>
    private async Task<bool> DialOnceAsync(CancellationToken cancellationToken)
    {
        Phase = ClientPhase.Dialing;
        _context.Events.Changed();
        IPAddress server;
        try
        {
            server = IPAddress.TryParse(_options.Server, out var literal)
                ? literal
                : (await Dns.GetHostAddressesAsync(_options.Server, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false))[0];
        }
        catch (Exception e) when (e is SocketException or IndexOutOfRangeException)
        {
            LastError = $"cannot resolve {_options.Server}: {e.Message}";
            return false;
        }

        // The interface first: when the box cannot create it (the name is taken by another device, the sandbox
        // has no /dev/net/tun), no call is placed that could only be hung up again.
        try
        {
            var tun = _context.Platform.OpenTun(_options.Interface);
            _tun = new TunBridge(tun, _context.Pool, _context.TunCounters);
            _tunIndex = _context.Netlink.GetInterfaceIndex(_tun.Name);
            _context.Netlink.SetMtu(_tunIndex, _ppp.Mtu);
        }
        catch (Exception e) when (e is PlatformException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            _tun?.Dispose();
            _tun = null;
            Phase = ClientPhase.InterfaceFailed;
            LastError = $"cannot create interface {_options.Interface}: {e.Message}";
            LogDialFailed(_context.Logger, _options.Name, LastError);
            return false;
        }

        // A tunnel configured to share places its call on a connection another tunnel to this server opened.
        ControlChannel? channel;
        Task? ownControlRun = null;
        if (_options.ShareControlConnection)
        {
            (channel, var opened) = await _context.SharedChannels.FindOrOpenAsync(server, async () =>
            {
                var shared = await OpenControlChannelAsync(server, cancellationToken).ConfigureAwait(false);
                // It outlives this tunnel while others' calls are on it, so it is not this tunnel's to stop: it
                // ends with its last call (or when TCP goes), and nobody waits for it here.
                _ = shared is null ? null : Task.Run(() => shared.RunAsync(CancellationToken.None), CancellationToken.None);
                return shared;
            }, cancellationToken).ConfigureAwait(false);
            if (channel is not null && !opened)
            {
                LogJoining(_context.Logger, _options.Name, server, channel.Name);
            }
        }
        else
        {
            channel = await OpenControlChannelAsync(server, cancellationToken).ConfigureAwait(false);
            ownControlRun = channel?.RunAsync(cancellationToken);
        }
        if (channel is null)
        {
            ReleaseTun();
            return false;
        }

        TunnelSession? session = null;
        var credentials = _options.Secret.HasPassword
            ? PeerCredentials.FromPassword(_options.User, _options.Secret.Password!)
            : PeerCredentials.FromNtHash(_options.User, _options.Secret.NtHash);
        var options = new TunnelSessionOptions
        {
            Name = _options.Name,
            Role = PptpControlRole.Client,
            Ppp = PppOptionsBuilder.Client(_ppp, _options),
            Mtu = _ppp.Mtu,
            ClampMss = _ppp.ClampMss,
            AuthFactory = new DelegateAuthFactory((method, role) =>
                AuthProtocolFactory.Create(method, role, _context.AuthEnvironment(session!, _ppp), credentials: credentials)),
            EncryptionLayer = TunnelSecurity.EncryptionLayer(_options.Mppe, PppSessionRole.Client),
        };
        session = new TunnelSession(options, this, channel, _context.Gre, _context.Pool, _context.Time, _context.Logger);
        channel.PlaceCall(session);
        _session = session;
        _tun.RouteAll(session);
        _tun.DeviceLost += OnDeviceLost;
        _tun.Start();
        Phase = ClientPhase.Connecting;
        _context.Events.Changed();
        await session.RunAsync(cancellationToken).ConfigureAwait(false);
        if (ownControlRun is not null)
        {
            // The connection ends with its call (a Stop-Control-Connection after the Call-Clear).
            await ownControlRun.ConfigureAwait(false);
        }
        var wasUp = session.UpSince is not null;
        _session = null;
        _tun.DeviceLost -= OnDeviceLost;
        ReleaseTun();
        return wasUp;
    }

    /// <summary>A new control connection to <paramref name="server"/> (not yet running); null, with the reason in LastError, when TCP fails.</summary>
    private async Task<ControlChannel?> OpenControlChannelAsync(IPAddress server, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await socket.ConnectAsync(new IPEndPoint(server, PptpControlCodec.TcpPort), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            LastError = $"cannot reach {server}:1723: {(e is OperationCanceledException ? "timed out" : e.Message)}";
            LogDialFailed(_context.Logger, _options.Name, LastError);
            return null;
        }
        ControlChannel.EnableKeepAlive(socket);
        var control = PppOptionsBuilder.Control(_ppp) with { CallIdAvailable = id => !_context.Gre.IsRegistered(server, id) };
        LogDialing(_context.Logger, _options.Name, server);
        return new ControlChannel(_options.Name, PptpControlRole.Client, control, this, socket, _context.Time, _context.Logger);
    }

    private void ReleaseTun()
    {
        _tun?.Dispose();
        _tun = null;
    }

    private void OnDeviceLost(TunBridge bridge)
        => _session?.RequestClose($"interface {bridge.Name} disappeared");

    // ---- ITunnelSessionHost ----

    public PppSessionOptions PreparePpp(TunnelSession session, PppSessionOptions options) => options;

    // ---- IControlChannelHost: a client's connection carries its own call and takes none ----

    public TunnelSession? AdmitCall(ControlChannel channel, OutgoingCallRequest request, out PptpCallDecision refusal)
    {
        refusal = PptpCallDecision.Refuse(OutgoingCallResult.DoNotAccept);
        return null;
    }

    public void OnChannelClosed(ControlChannel channel, string reason) => _context.SharedChannels.Remove(channel.Peer, channel);

    public void OnGreBlocked(TunnelSession session)
    {
        Phase = ClientPhase.GreBlocked;
        LastError = session.GreBlockedReason;
        _context.Events.GreBlocked();
    }

    public void OnAuthentication(TunnelSession session, bool succeeded, string? user, string? reason)
    {
        if (succeeded)
        {
            LogAuthenticated(_context.Logger, _options.Name, _options.User);
            return;
        }
        Phase = ClientPhase.AuthFailed;
        LastError = reason ?? "authentication failed";
        LogAuthFailed(_context.Logger, _options.Name, LastError);
        _context.Events.AuthenticationFailed();
    }

    public void OnNetworkUp(TunnelSession session, PppNegotiatedParameters negotiated)
    {
        try
        {
            var netlink = _context.Netlink;
            netlink.AddAddress(_tunIndex, negotiated.LocalAddress!, negotiated.PeerAddress, 32);
            // What the link negotiated (both MRUs, less MPPE's overhead), so the kernel sizes, fragments and
            // answers "fragmentation needed" for what really fits.
            netlink.SetMtu(_tunIndex, session.EffectiveMtu);
            netlink.SetLinkUp(_tunIndex, up: true);
            if (_options.DefaultRoute)
            {
                // Keep reaching the server the way we reach it now, then send everything else into the tunnel.
                if (netlink.Lookup(session.Peer) is { } current && current.InterfaceIndex != _tunIndex)
                {
                    // Replace, not add: a host route left by a run that was killed would otherwise fail every
                    // redial with "File exists".
                    var hostRoute = new RouteSpec(new IPNetwork(session.Peer, 32), current.Gateway, current.InterfaceIndex);
                    netlink.ReplaceRoute(hostRoute);
                    _routes.Add(hostRoute);
                }
                AddRoute(new RouteSpec(IPNetwork.Parse("0.0.0.0/1"), null, _tunIndex));
                AddRoute(new RouteSpec(IPNetwork.Parse("128.0.0.0/1"), null, _tunIndex));
            }
            foreach (var prefix in _options.Routes)
            {
                AddRoute(new RouteSpec(prefix, null, _tunIndex));
            }
        }
        catch (PlatformException e)
        {
            LastError = $"could not configure {_tun?.Name}: {e.Message}";
            LogRouteFailed(_context.Logger, _options.Name, LastError);
            session.RequestClose(LastError);
            return;
        }
        if (_options.UsePeerDns && negotiated.PrimaryDns is not null)
        {
            WriteResolvConf(negotiated);
        }
        Phase = ClientPhase.Up;
        LastError = null;
        LogUp(_context.Logger, _options.Name, negotiated.LocalAddress!, negotiated.PeerAddress!, _tun?.Name ?? "?",
            negotiated.EncryptionUp ? "MPPE" : "none");
        _context.Events.Changed();
        _context.RunHook(_context.Hooks.IpUp, session, negotiated, _tun?.Name ?? "");
    }

    public void OnIpv6Up(TunnelSession session, PppNegotiatedParameters negotiated)
    {
        // The link-local pair IPv6CP agreed, as pppd sets it on a ppp interface (`ip addr add fe80::OURS peer fe80::PEERS`).
        var local = Ipv6LinkLocal.Address(negotiated.LocalInterfaceId!.Value);
        var peer = Ipv6LinkLocal.Address(negotiated.PeerInterfaceId!.Value);
        try
        {
            _context.Netlink.AddAddress(_tunIndex, local, peer, 128);
            LogIpv6Up(_context.Logger, _options.Name, local, peer, _tun?.Name ?? "?");
        }
        catch (PlatformException e)
        {
            LogRouteFailed(_context.Logger, _options.Name, $"IPv6 not carried: could not add {local} to {_tun?.Name}: {e.Message}");
        }
    }

    public void DeliverPacket(TunnelSession session, PppProtocol protocol, Span<byte> packet) => _tun?.Write(packet, session.TunWrites);

    public void OnClosed(TunnelSession session, string reason)
    {
        RemoveRoutes();
        if (session.Negotiated is { } negotiated)
        {
            _context.RunHook(_context.Hooks.IpDown, session, negotiated, _tun?.Name ?? "");
        }
        if (Phase != ClientPhase.AuthFailed)
        {
            LastError = reason;
        }
        LogClosed(_context.Logger, _options.Name, reason);
        _context.Events.Changed();
    }

    private void AddRoute(RouteSpec route)
    {
        _context.Netlink.AddRoute(route);
        _routes.Add(route);
    }

    private void RemoveRoutes()
    {
        foreach (var route in _routes)
        {
            try
            {
                _context.Netlink.DeleteRoute(route);
            }
            catch (PlatformException)
            {
                // Its interface is gone and took the route with it.
            }
        }
        _routes.Clear();
    }

    private void WriteResolvConf(PppNegotiatedParameters negotiated)
    {
        var lines = $"# written by pptp-gateway for client {_options.Name}\nnameserver {negotiated.PrimaryDns}\n"
            + (negotiated.SecondaryDns is null ? "" : $"nameserver {negotiated.SecondaryDns}\n");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(ResolvConfPath)!);
            File.WriteAllText(ResolvConfPath, lines);
            if (_options.WriteSystemResolvConf)
            {
                File.WriteAllText("/etc/resolv.conf", lines);
            }
        }
        catch (IOException e)
        {
            LogRouteFailed(_context.Logger, _options.Name, $"could not write resolv.conf: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _wanted = false;
        _session?.RequestClose("service stopping");
        await _stop.CancelAsync().ConfigureAwait(false);
        _wake.Release();
        if (_loop is not null)
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        RemoveRoutes();
        _stop.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "client {Name}: IPv6 up, {Local} -> {Peer} on {Tun}")]
    private static partial void LogIpv6Up(ILogger logger, string name, IPAddress local, IPAddress peer, string tun);

    [LoggerMessage(Level = LogLevel.Information, Message = "client {Name}: dialing {Server}:1723")]
    private static partial void LogDialing(ILogger logger, string name, IPAddress server);

    [LoggerMessage(Level = LogLevel.Information, Message = "client {Name}: placing a call to {Server} on the control connection of {Channel} (shareControlConnection)")]
    private static partial void LogJoining(ILogger logger, string name, IPAddress server, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "client {Name}: {Reason}")]
    private static partial void LogDialFailed(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "client {Name}: authenticated as '{User}'")]
    private static partial void LogAuthenticated(ILogger logger, string name, string user);

    [LoggerMessage(Level = LogLevel.Error, Message = "client {Name}: authentication failed: {Reason}")]
    private static partial void LogAuthFailed(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "client {Name}: {Reason}")]
    private static partial void LogRouteFailed(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "client {Name}: tunnel up, {Local} -> {Peer} on {Tun} (encryption: {Encryption})")]
    private static partial void LogUp(ILogger logger, string name, IPAddress local, IPAddress peer, string tun, string encryption);

    [LoggerMessage(Level = LogLevel.Information, Message = "client {Name}: tunnel closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "client {Name}: redialing in {Seconds:0.0} s ({Reason})")]
    private static partial void LogRedial(ILogger logger, string name, double seconds, string reason);
}
