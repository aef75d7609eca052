using System.Net;

namespace Firmware.Protocol.Ppp.Ipcp;

/// <summary>What our IPCP asks for and hands out (RFC 1332, RFC 1877).</summary>
public sealed record IpcpSettings
{
    /// <summary>Our tunnel address; null asks the peer to assign one (a client).</summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>The address we assign to the peer (a server); null accepts whatever the peer asks for.</summary>
    public IPAddress? PeerAddress { get; init; }

    /// <summary>Ask the peer for primary and secondary DNS servers (a client).</summary>
    public bool RequestDns { get; init; }

    /// <summary>Ask the peer for primary and secondary NBNS (WINS) servers.</summary>
    public bool RequestNbns { get; init; }

    /// <summary>Primary DNS handed to a peer that asks (a server); null rejects the option.</summary>
    public IPAddress? PrimaryDns { get; init; }

    /// <summary>Secondary DNS handed to a peer that asks.</summary>
    public IPAddress? SecondaryDns { get; init; }

    /// <summary>Primary NBNS handed to a peer that asks.</summary>
    public IPAddress? PrimaryNbns { get; init; }

    /// <summary>Secondary NBNS handed to a peer that asks.</summary>
    public IPAddress? SecondaryNbns { get; init; }
}
