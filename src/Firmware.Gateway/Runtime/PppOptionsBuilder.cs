using Firmware.Gateway.Configuration;
using Firmware.Platform.Linux;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Ipcp;
using Firmware.Protocol.Ppp.Ipv6cp;
using Firmware.Protocol.Ppp.Lcp;
using Firmware.Protocol.Pptp;

namespace Firmware.Gateway.Runtime;

/// <summary>Turns the configuration's PPP tuning and policies into the protocol layer's option records.</summary>
internal static class PppOptionsBuilder
{
    public static PppSessionOptions Server(PppOptions ppp, ServerOptions server) => Common(ppp) with
    {
        Role = PppSessionRole.Server,
        Auth = new AuthPolicy { Demand = [.. server.AuthMethods] },
        Ipcp = new IpcpSettings
        {
            LocalAddress = server.LocalAddress,
            PrimaryDns = server.Dns.Count > 0 ? server.Dns[0] : null,
            SecondaryDns = server.Dns.Count > 1 ? server.Dns[1] : null,
            PrimaryNbns = server.Wins.Count > 0 ? server.Wins[0] : null,
            SecondaryNbns = server.Wins.Count > 1 ? server.Wins[1] : null,
        },
        // One identifier for every tunnel: they share the server's TUN, and one link-local address serves them all.
        Ipv6cp = new Ipv6cpSettings { InterfaceId = Ipv6LinkLocal.InterfaceIdFor(server.LocalAddress) },
    };

    public static PppSessionOptions Client(PppOptions ppp, ClientOptions client) => Common(ppp) with
    {
        Role = PppSessionRole.Client,
        Auth = new AuthPolicy { Accept = [.. client.AuthMethods] },
        Ipcp = new IpcpSettings { RequestDns = client.UsePeerDns },
    };

    public static PptpControlOptions Control(PppOptions ppp) => new()
    {
        HostName = Environment.MachineName,
        VendorString = "pptp-gateway",
        RandomFill = SystemRandom.Fill,
    };

    public static AuthOptions Auth(PppOptions ppp) => new()
    {
        RestartInterval = ppp.RestartTimer,
        MaxTransmissions = ppp.MaxConfigure,
    };

    private static PppSessionOptions Common(PppOptions ppp) => new()
    {
        Lcp = new LcpSettings
        {
            Mru = ppp.Mru,
            EchoInterval = ppp.LcpEchoInterval,
            EchoFailureLimit = ppp.LcpEchoFailures,
        },
        Automaton = new PppAutomatonSettings
        {
            RestartInterval = ppp.RestartTimer,
            MaxConfigure = ppp.MaxConfigure,
        },
    };
}
