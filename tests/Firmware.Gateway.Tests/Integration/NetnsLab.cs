using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// A throw-away network for one test: a server namespace holding a bridge with 198.51.100.1/24, and host
/// namespaces each joined to that bridge by a veth (host n is 198.51.100.(10+n)). Names carry a random suffix so
/// runs never collide; Dispose kills every gateway and deletes every namespace even when the test failed.
/// </summary>
internal sealed class NetnsLab : IDisposable
{
    public const string ServerLanAddress = "198.51.100.1";
    public const string ServerTunnelAddress = "10.77.0.1";
    public const string TunnelNetwork = "10.77.0.0/24";

    private readonly string _suffix;
    private readonly List<string> _namespaces = [];
    private readonly List<GatewayProcess> _gateways = [];
    private readonly string _root;

    public NetnsLab()
    {
        RequirePrerequisites();
        _suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        _root = Path.Combine(Path.GetTempPath(), $"pgw-integ-{_suffix}");
        Directory.CreateDirectory(_root);
        try
        {
            ServerNamespace = AddNamespace("s");
            Ip("-n", ServerNamespace, "link", "add", "br0", "type", "bridge");
            Ip("-n", ServerNamespace, "addr", "add", ServerLanAddress + "/24", "dev", "br0");
            Ip("-n", ServerNamespace, "link", "set", "br0", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string ServerNamespace { get; }

    public static string HostAddress(int index) => $"198.51.100.{10 + index}";

    /// <summary>The tests need root (namespaces, TUN) and the published binary; without either they fail, loudly.</summary>
    public static void RequirePrerequisites()
    {
        Assert.True(Environment.IsPrivilegedProcess,
            "integration tests need root (network namespaces, TUN devices, raw GRE): run them as root");
        var binary = RepoPaths.PublishedBinary("linux-x64");
        Assert.True(File.Exists(binary), $"{binary} is missing: run scripts/build linux-x64 first (scripts/test does)");
    }

    /// <summary>A new namespace on the server's bridge, with address <see cref="HostAddress"/>(index) on eth0.</summary>
    public string AddHost(int index)
    {
        var netns = AddNamespace("h" + index.ToString(CultureInfo.InvariantCulture));
        var port = "v" + index.ToString(CultureInfo.InvariantCulture);
        Ip("-n", ServerNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns);
        Ip("-n", ServerNamespace, "link", "set", port, "master", "br0", "up");
        Ip("-n", netns, "addr", "add", HostAddress(index) + "/24", "dev", "eth0");
        Ip("-n", netns, "link", "set", "eth0", "up");
        return netns;
    }

    /// <summary>A server and one client on host 1, both up; returns the client's namespace.</summary>
    public (string ClientNs, GatewayProcess Server, GatewayProcess Client) StartPair(JsonObject? serverConfig = null, JsonObject? clientConfig = null)
    {
        var upTimeout = TimeSpan.FromSeconds(30);
        var server = StartGateway("server", ServerNamespace, serverConfig ?? ServerConfig());
        server.WaitForLog("server listening", upTimeout);
        var clientNs = AddHost(1);
        var client = StartGateway("client", clientNs, clientConfig ?? ClientConfig());
        client.WaitForLog("tunnel up", upTimeout);
        server.WaitForLog("session up", upTimeout);
        return (clientNs, server, client);
    }

    /// <summary>Starts a command inside a namespace in the background (a traffic generator, an attacker).</summary>
    public static BackgroundProcess StartIn(string netns, params string[] command) => BackgroundProcess.Start(command[0], ["ip", "netns", "exec", netns, .. command]);

    public GatewayProcess StartGateway(string name, string netns, JsonObject? config, IReadOnlyList<string>? launcher = null, string? card = null)
    {
        var gateway = GatewayProcess.Start(name, netns, GatewayDirectory(name), config, launcher, card);
        lock (_gateways)
        {
            _gateways.Add(gateway);
        }
        return gateway;
    }

    /// <summary>Where <see cref="StartGateway"/> keeps a gateway's state and run folders (and by default its config).</summary>
    public string GatewayDirectory(string name) => Path.Combine(_root, name);

    /// <summary>A folder of this lab's, removed with it (e.g. a card's mount point).</summary>
    public string Folder(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs a command inside a namespace.</summary>
    public static ProcessRunner.Result Exec(string netns, TimeSpan timeout, params string[] command)
        => ProcessRunner.Run("ip", ["netns", "exec", netns, .. command], timeout);

    /// <summary>
    /// Packets the kernel dropped at a full receive buffer, summed over the namespace's raw sockets of one IP
    /// protocol (/proc/net/raw's last column): a flood can outrun the reader, and what never reached us cannot be
    /// counted by us.
    /// </summary>
    public static long RawSocketDrops(string netns, int protocol)
    {
        var table = Exec(netns, TimeSpan.FromSeconds(10), "cat", "/proc/net/raw");
        Assert.True(table.ExitCode == 0, $"cat /proc/net/raw in {netns}: {table.Stderr}");
        var port = ":" + protocol.ToString("X4", CultureInfo.InvariantCulture);
        long drops = 0;
        foreach (var line in table.Stdout.Split('\n').Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 2 && fields[1].EndsWith(port, StringComparison.Ordinal))
            {
                drops += long.Parse(fields[^1], CultureInfo.InvariantCulture);
            }
        }
        return drops;
    }

    /// <summary>Pings and fails the test with the output if no reply came back.</summary>
    public static void AssertPing(string netns, string address, int count = 3)
    {
        var result = Ping(netns, address, count);
        Assert.True(result.ExitCode == 0, $"ping {address} from {netns} failed ({result.ExitCode}):\n{result.Stdout}{result.Stderr}");
    }

    public static ProcessRunner.Result Ping(string netns, string address, int count = 3)
        => Exec(netns, TimeSpan.FromSeconds(count + 10), "ping", "-n", "-c", count.ToString(CultureInfo.InvariantCulture),
            "-i", "0.2", "-W", "2", address);

    /// <summary>Pings until one reply comes back (a tunnel that just came up may lose the first packet).</summary>
    public static void AssertPingWithin(string netns, string address, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ProcessRunner.Result result;
        do
        {
            result = Exec(netns, TimeSpan.FromSeconds(10), "ping", "-n", "-c", "1", "-W", "1", address);
            if (result.ExitCode == 0)
            {
                return;
            }
        }
        while (clock.Elapsed < timeout);
        Assert.Fail($"no ping reply from {address} in {netns} within {timeout.TotalSeconds:0} s:\n{result.Stdout}{result.Stderr}");
    }

    public static string Ip(params string[] arguments)
    {
        var result = ProcessRunner.Run("ip", arguments, TimeSpan.FromSeconds(20));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {result.Stderr}");
        }
        return result.Stdout;
    }

    public void Dispose()
    {
        GatewayProcess[] gateways;
        lock (_gateways)
        {
            gateways = [.. _gateways];
        }
        foreach (var gateway in gateways)
        {
            gateway.Dispose();
        }
        foreach (var netns in _namespaces)
        {
            ProcessRunner.Run("ip", ["netns", "del", netns], TimeSpan.FromSeconds(20));
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    private string AddNamespace(string role)
    {
        var netns = $"pgw{_suffix}{role}";
        Ip("netns", "add", netns);
        _namespaces.Add(netns);
        Ip("-n", netns, "link", "set", "lo", "up");
        return netns;
    }

    // ---- configs ----

    public static JsonObject ServerConfig(int poolSize = 11, Action<JsonObject>? server = null, JsonObject? ppp = null)
    {
        var section = new JsonObject
        {
            ["listen"] = "0.0.0.0",
            ["localAddress"] = ServerTunnelAddress,
            ["pool"] = new JsonArray($"10.77.0.10-10.77.0.{9 + poolSize}"),
            ["dns"] = new JsonArray(ServerTunnelAddress),
            ["users"] = new JsonArray(new JsonObject { ["name"] = "demo", ["password"] = "demo-password" }),
        };
        server?.Invoke(section);
        var config = new JsonObject
        {
            ["server"] = section,
            ["board"] = new JsonObject { ["driver"] = "none" },
        };
        if (ppp is not null)
        {
            config["ppp"] = ppp;
        }
        return config;
    }

    public static JsonObject ClientConfig(string user = "demo", string password = "demo-password",
        double redialSeconds = 1, JsonObject? ppp = null)
    {
        var config = new JsonObject
        {
            ["clients"] = new JsonArray(new JsonObject
            {
                ["name"] = "hq",
                ["server"] = ServerLanAddress,
                ["user"] = user,
                ["password"] = password,
                ["routes"] = new JsonArray(TunnelNetwork),
                ["interface"] = "pptpc0",
                ["redial"] = new JsonObject { ["initialDelaySeconds"] = redialSeconds, ["maxDelaySeconds"] = Math.Max(1, redialSeconds), ["jitter"] = 0 },
            }),
            ["board"] = new JsonObject { ["driver"] = "none" },
        };
        if (ppp is not null)
        {
            config["ppp"] = ppp;
        }
        return config;
    }
}
