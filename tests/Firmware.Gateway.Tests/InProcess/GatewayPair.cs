using System.Net;
using System.Text.Json.Nodes;
using Firmware.Gateway.Logging;
using Firmware.Gateway.Runtime;
using Firmware.Gateway.Tests.Configuration;
using Firmware.Platform.Gre.Testing;
using Firmware.Platform.Tun.Testing;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.InProcess;

/// <summary>
/// A PPTP server gateway and a client gateway in this process, each the real <see cref="GatewayService"/> with a
/// config parsed as from the card, on fake hosts joined by a <see cref="MemoryGreNetwork"/>. The control
/// connection is real TCP on a loopback address of the pair's own, so pairs run in parallel.
/// </summary>
internal sealed class GatewayPair : IAsyncDisposable
{
    public const int Timeout = 30_000;
    public const string ServerTun = "pptps0";
    public const string ClientTun = "pptpc0";

    private static int _pairs;
    private readonly ITestOutputHelper _output;
    private readonly LogCapture _serverLog = new();
    private readonly LogCapture _clientLog = new();
    private readonly TempDirectory _directory = new();
    private bool _disposed;

    private GatewayPair(ITestOutputHelper output, Action<JsonObject>? client, Action<JsonObject>? server)
    {
        _output = output;
        // 127.77.N.1 listens for this pair's calls. The client's TCP comes from 127.0.0.1 (the kernel's source
        // for loopback), the address the server's session registers GRE for, so the client's GRE host has it.
        var n = Interlocked.Increment(ref _pairs);
        ServerAddress = IPAddress.Parse($"127.77.{n % 250}.1");
        Server = new FakeHost(Network, ServerAddress);
        Client = new FakeHost(Network, IPAddress.Loopback);

        var serverSection = new JsonObject
        {
            ["listen"] = ServerAddress.ToString(),
            ["localAddress"] = "10.77.0.1",
            ["pool"] = new JsonArray("10.77.0.10-10.77.0.20"),
            ["users"] = new JsonArray(new JsonObject { ["name"] = "demo", ["password"] = "demo-password" }),
        };
        server?.Invoke(serverSection);
        var serverConfig = new JsonObject
        {
            ["server"] = serverSection,
            ["board"] = new JsonObject { ["driver"] = "none" },
        };
        var clientSection = new JsonObject
        {
            ["name"] = "hq",
            ["server"] = ServerAddress.ToString(),
            ["user"] = "demo",
            ["password"] = "demo-password",
            ["routes"] = new JsonArray("10.77.0.0/24"),
            ["interface"] = ClientTun,
            ["redial"] = new JsonObject { ["initialDelaySeconds"] = 1, ["maxDelaySeconds"] = 1, ["jitter"] = 0 },
        };
        client?.Invoke(clientSection);
        var clientConfig = new JsonObject
        {
            ["clients"] = new JsonArray(clientSection),
            ["board"] = new JsonObject { ["driver"] = "none" },
        };
        ServerGateway = NewService("server", serverConfig, Server, _serverLog);
        ClientGateway = NewService("client", clientConfig, Client, _clientLog);
    }

    public MemoryGreNetwork Network { get; } = new();

    public IPAddress ServerAddress { get; }

    public FakeHost Server { get; }

    public FakeHost Client { get; }

    public GatewayService ServerGateway { get; }

    public GatewayService ClientGateway { get; }

    /// <summary>What the server gateway logged so far.</summary>
    public string ServerLog => _serverLog.ToString();

    public ClientRuntime ClientRuntime => ClientGateway.Clients.Single();

    public TunnelSession ClientSession => ClientRuntime.Session ?? throw new InvalidOperationException("the client has no session");

    public TunnelSession ServerSession => ServerGateway.AllSessions.Single();

    /// <summary>Starts both gateways; the client dials at once. The actions edit the client's entry and the server section.</summary>
    public static GatewayPair Start(ITestOutputHelper output, Action<JsonObject>? client = null, Action<JsonObject>? server = null)
    {
        var pair = new GatewayPair(output, client, server);
        pair.ServerGateway.Start();
        pair.ClientGateway.Start();
        return pair;
    }

    /// <summary>Starts both gateways and waits until the tunnel is up on both sides.</summary>
    public static GatewayPair StartUp(ITestOutputHelper output, Action<JsonObject>? client = null, Action<JsonObject>? server = null)
    {
        var pair = Start(output, client, server);
        pair.WaitUntilUp();
        return pair;
    }

    public void WaitUntilUp()
    {
        WaitUntil(() => ClientRuntime.Phase == ClientPhase.Up, "the client's tunnel up");
        WaitUntil(() => ServerGateway.AllSessions is [{ State: TunnelState.Up }], "the server's session up");
    }

    public MemoryTun ServerTunDevice => Server.Tun(ServerTun);

    public MemoryTun ClientTunDevice => Client.Tun(ClientTun);

    public static void WaitUntil(Func<bool> condition, string what) => ConfigTestSupport.WaitUntil(condition, what, Timeout);

    private GatewayService NewService(string name, JsonObject config, FakeHost host, LogCapture log)
    {
        var loaded = ConfigTestSupport.Load(config.ToJsonString());
        Assert.True(loaded.Accepted, $"{name} config: " + string.Join("; ", loaded.Diagnostics));
        var directory = Path.Combine(_directory.Path, name);
        Directory.CreateDirectory(directory);
        return new GatewayService(loaded.Config!, new JournalLoggerSink(log, LogLevel.Debug), TimeProvider.System,
            new GatewayPaths(Path.Combine(directory, "control.sock")), host.Platform);
    }

    /// <summary>Stops the client, then the server (each sends its peer Stop-Control-Connection).</summary>
    public ValueTask DisposeAsync() => StopAsync(serverFirst: false);

    /// <summary>Stops both, the server first: its sessions end because the service stops, not because the client went.</summary>
    public async ValueTask StopAsync(bool serverFirst)
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await (serverFirst ? ServerGateway : ClientGateway).DisposeAsync();
        await (serverFirst ? ClientGateway : ServerGateway).DisposeAsync();
        _output.WriteLine("---- server log ----\n" + _serverLog + "---- client log ----\n" + _clientLog);
        _directory.Dispose();
    }

    /// <summary>A log a test may read while the gateway writes it.</summary>
    private sealed class LogCapture : StringWriter
    {
        private readonly Lock _gate = new();

        public override void Write(char value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                base.WriteLine(value);
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return base.ToString();
            }
        }
    }
}
