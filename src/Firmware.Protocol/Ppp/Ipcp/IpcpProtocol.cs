using System.Net;

namespace Firmware.Protocol.Ppp.Ipcp;

/// <summary>The IP Control Protocol (RFC 1332) with the DNS/NBNS extensions of RFC 1877.</summary>
public sealed class IpcpProtocol : ControlProtocol
{
    private readonly IpcpAddressOption _address;
    private readonly IpcpServerAddressOption _primaryDns;
    private readonly IpcpServerAddressOption _secondaryDns;
    private readonly IpcpServerAddressOption _primaryNbns;
    private readonly IpcpServerAddressOption _secondaryNbns;

    /// <param name="settings">Addresses we want and hand out.</param>
    /// <param name="automaton">Restart timer and counters.</param>
    /// <param name="time">Time source.</param>
    /// <param name="output">Where packets go.</param>
    /// <param name="dispatch">Posts timer expiries into the session's loop.</param>
    public IpcpProtocol(IpcpSettings settings, PppAutomatonSettings automaton, TimeProvider time, IPppControlOutput output, Action<Action>? dispatch = null)
        : base(PppProtocol.Ipcp, "IPCP", automaton, time, output, dispatch)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _address = new IpcpAddressOption(settings);
        _primaryDns = new IpcpServerAddressOption(129, "Primary-DNS", settings.RequestDns, settings.PrimaryDns);
        _primaryNbns = new IpcpServerAddressOption(130, "Primary-NBNS", settings.RequestNbns, settings.PrimaryNbns);
        _secondaryDns = new IpcpServerAddressOption(131, "Secondary-DNS", settings.RequestDns, settings.SecondaryDns);
        _secondaryNbns = new IpcpServerAddressOption(132, "Secondary-NBNS", settings.RequestNbns, settings.SecondaryNbns);
        AddOption(new IpcpCompressionOption());
        AddOption(_address);
        AddOption(_primaryDns);
        AddOption(_primaryNbns);
        AddOption(_secondaryDns);
        AddOption(_secondaryNbns);
    }

    /// <summary>
    /// Server: the address to assign to the peer, replacing the one given in the settings. Takes effect for
    /// the next negotiation, so call it before IPCP starts (the session starts IPCP after authentication).
    /// </summary>
    public void AssignPeerAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        _address.AssignPeer(address);
    }

    /// <summary>Our IPv4 address (valid once Opened).</summary>
    public IPAddress? LocalAddress => Ipv4.ToAddress(_address.Local);

    /// <summary>The peer's IPv4 address (valid once Opened).</summary>
    public IPAddress? PeerAddress => Ipv4.ToAddress(_address.Peer);

    /// <summary>Primary DNS: received from the peer, or else handed to it.</summary>
    public IPAddress? PrimaryDns => Pick(_primaryDns);

    /// <summary>Secondary DNS: received from the peer, or else handed to it.</summary>
    public IPAddress? SecondaryDns => Pick(_secondaryDns);

    /// <summary>Primary NBNS: received from the peer, or else handed to it.</summary>
    public IPAddress? PrimaryNbns => Pick(_primaryNbns);

    /// <summary>Secondary NBNS: received from the peer, or else handed to it.</summary>
    public IPAddress? SecondaryNbns => Pick(_secondaryNbns);

    private static IPAddress? Pick(IpcpServerAddressOption option) =>
        Ipv4.ToAddress(option.Received != 0 ? option.Received : option.Given);
}
