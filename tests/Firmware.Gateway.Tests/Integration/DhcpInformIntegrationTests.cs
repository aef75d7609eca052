using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// The server answers a DHCPINFORM that comes through a tunnel, as Windows sends one after connecting: the real
/// binary, a client in its namespace sending the INFORM out of its tunnel interface, and the DHCPACK coming back
/// through the same tunnel with server.pushRoutes as options 121 and 249.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class DhcpInformIntegrationTests(ITestOutputHelper output)
{
    /// <summary>Sends one DHCPINFORM from ADDRESS out of DEVICE to the broadcast address and prints the answer's options.</summary>
    private const string Inform = """
import socket, struct, sys
device, address = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(('0.0.0.0', 68))
s.settimeout(10)
xid = 0x5047574e
bootp = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', 1, 1, 6, 0, xid, 0, 0, socket.inet_aton(address),
                    bytes(4), bytes(4), bytes(4), bytes.fromhex('02004c4f4f50'), b'', b'')
options = bytes([53, 1, 8, 55, 4, 1, 6, 121, 249, 255])
s.sendto(bootp + b'\x63\x82\x53\x63' + options, ('255.255.255.255', 67))
data, sender = s.recvfrom(1500)
assert struct.unpack('!I', data[4:8])[0] == xid, 'another transaction'
found, i = {}, 240
while i < len(data) and data[i] != 255:
    if data[i] == 0: i += 1; continue
    code, length = data[i], data[i + 1]; found[code] = data[i + 2:i + 2 + length].hex(); i += 2 + length
print('from', sender[0], ' '.join(f'{c}={v}' for c, v in sorted(found.items())), flush=True)
""";

    [Fact]
    public void A_dhcpinform_through_the_tunnel_gets_the_configured_routes()
    {
        using var lab = new NetnsLab();
        var serverConfig = NetnsLab.ServerConfig(server: s => s["pushRoutes"] = new JsonArray("10.1.0.0/16", "192.168.50.0/24"));
        var (clientNs, server, _) = lab.StartPair(serverConfig);
        var session = server.WaitForSessions(s => s.Count == 1 && s[0].GetProperty("state").GetString() == "up",
            TimeSpan.FromSeconds(30), "the session up")[0];
        var clientAddress = session.GetProperty("remoteAddress").GetString()!;

        var answer = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(20), "python3", "-c", Inform, "pptpc0", clientAddress);
        output.WriteLine(answer.Stdout + answer.Stderr);
        Assert.True(answer.ExitCode == 0, answer.Stdout + answer.Stderr);
        // DHCPACK (53 = 5) from the server's tunnel address; each route via that address (10.77.0.1 = 0a4d0001),
        // in RFC 3442's encoding: prefix length, the significant octets of the prefix, the router.
        Assert.Contains($"from {NetnsLab.ServerTunnelAddress} ", answer.Stdout, StringComparison.Ordinal);
        Assert.Contains(" 53=05", answer.Stdout, StringComparison.Ordinal);
        const string Routes = "100a010a4d0001" + "18c0a8320a4d0001";
        Assert.Contains($" 121={Routes}", answer.Stdout, StringComparison.Ordinal);
        Assert.Contains($" 249={Routes}", answer.Stdout, StringComparison.Ordinal);
    }
}
