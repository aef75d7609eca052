using System.Diagnostics;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// The published linux-arm64 binary, as a board runs it: under qemu-user in a root that holds only glibc,
/// as the server and as the client of one MS-CHAPv2 + MPPE-128 tunnel between two network namespaces.
/// A binary that needs libssl (or any library but libc) at the first login fails here.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class Arm64TunnelTests(ITestOutputHelper output)
{
    // Emulated start-up and the first key schedules are slower than native: give each step more time.
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public void Arm64_server_and_client_in_a_libc_only_root_carry_an_MPPE_128_tunnel()
    {
        var clock = Stopwatch.StartNew();
        var binary = RepoPaths.PublishedBinary("linux-arm64");
        Assert.True(File.Exists(binary), $"{binary} is missing: run scripts/build linux-arm64 first (scripts/test does)");
        using var root = new LibcOnlyRoot();
        Assert.Equal(LibcOnlyRoot.Libraries.Select(l => Path.Combine("lib", l)).Order(StringComparer.Ordinal), root.Files);
        using var lab = new NetnsLab();

        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(), root.Launcher(binary));
        server.WaitForLog("server listening", UpTimeout);
        var clientNs = lab.AddHost(1);
        var client = lab.StartGateway("client", clientNs, NetnsLab.ClientConfig(), root.Launcher(binary));
        client.WaitForLog("tunnel up", UpTimeout);
        server.WaitForLog("session up", UpTimeout);
        output.WriteLine($"tunnel up after {clock.Elapsed.TotalSeconds:0.0} s");

        var clientAddress = Assert.Single(client.Sessions()).GetProperty("localAddress").GetString()!;
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(20));
        NetnsLab.AssertPing(clientNs, NetnsLab.ServerTunnelAddress);
        NetnsLab.AssertPing(lab.ServerNamespace, clientAddress);

        foreach (var gateway in new[] { client, server })
        {
            var session = Assert.Single(gateway.Sessions());
            Assert.True(session.GetProperty("state").GetString() == "up", $"{gateway.Name}: {session}");
            Assert.Equal("MPPE-128 stateless", session.GetProperty("mppe").GetString());
            Assert.True(session.GetProperty("bytesReceived").GetInt64() > 0, $"{gateway.Name}: {session}");
            Assert.False(gateway.HasExited, $"{gateway.Name} exited:\n{gateway.Log}");
        }

        // An orderly stop still works under emulation: SIGTERM ends both with exit code 0.
        client.Terminate();
        server.Terminate();
        foreach (var gateway in new[] { client, server })
        {
            Assert.True(gateway.WaitForExit(TimeSpan.FromSeconds(20)), $"{gateway.Name} did not stop on SIGTERM:\n{gateway.Log}");
            Assert.True(gateway.ExitCode == 0, $"{gateway.Name} exited with {gateway.ExitCode}:\n{gateway.Log}");
        }
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
