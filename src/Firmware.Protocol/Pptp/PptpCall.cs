namespace Firmware.Protocol.Pptp;

/// <summary>Call states (RFC 2637 sections 3.2/3.3, seen from either end of an outgoing call).</summary>
public enum PptpCallState
{
    /// <summary>Client: Outgoing-Call-Request sent, waiting for the reply.</summary>
    WaitReply,
    /// <summary>Connected: GRE flows.</summary>
    Established,
    /// <summary>Client: Call-Clear-Request sent, waiting for Call-Disconnect-Notify.</summary>
    WaitDisconnect,
    /// <summary>Gone.</summary>
    Cleared,
}

/// <summary>Why a call ended.</summary>
public enum PptpCallClearReason
{
    /// <summary>Still alive.</summary>
    None,
    /// <summary>The peer answered our Outgoing-Call-Request with a failure (see <see cref="PptpCall.PeerOutgoingResult"/>).</summary>
    RefusedByPeer,
    /// <summary>No Outgoing-Call-Reply in time.</summary>
    ReplyTimeout,
    /// <summary>We cleared it (Call-Clear-Request answered, or Call-Disconnect-Notify sent).</summary>
    ClearedLocally,
    /// <summary>We sent Call-Clear-Request and no Call-Disconnect-Notify came in time.</summary>
    DisconnectTimeout,
    /// <summary>The peer sent Call-Clear-Request.</summary>
    ClearRequestedByPeer,
    /// <summary>The peer sent Call-Disconnect-Notify (see <see cref="PptpCall.PeerDisconnectResult"/>).</summary>
    DisconnectedByPeer,
    /// <summary>The control connection went away (Stop, TCP close, echo loss): every call goes with it.</summary>
    ControlConnectionClosed,
}

/// <summary>
/// One outgoing call on a control connection: the IDs that key the GRE data channel and the parameters for
/// its window. GRE packets we send carry <see cref="PeerCallId"/>; packets we receive carry <see cref="LocalCallId"/>.
/// Zero is a valid call ID on either side (pptpd uses it).
/// </summary>
public sealed class PptpCall
{
    internal PptpCall(PptpControlConnection connection, ushort localCallId, ushort serialNumber, PptpCallState state)
    {
        Connection = connection;
        LocalCallId = localCallId;
        SerialNumber = serialNumber;
        State = state;
    }

    /// <summary>The control connection the call belongs to.</summary>
    public PptpControlConnection Connection { get; }

    /// <summary>The call ID we chose: the peer puts it in GRE packets to us.</summary>
    public ushort LocalCallId { get; }

    /// <summary>The call ID the peer chose: we put it in GRE packets to the peer.</summary>
    public ushort PeerCallId { get; internal set; }

    /// <summary>Call Serial Number of the Outgoing-Call-Request.</summary>
    public ushort SerialNumber { get; internal set; }

    public PptpCallState State { get; internal set; }

    public PptpCallClearReason ClearReason { get; internal set; }

    /// <summary>Packet Receive Window Size we announced.</summary>
    public ushort LocalReceiveWindow { get; internal set; }

    /// <summary>Packet Receive Window Size the peer announced: our send window.</summary>
    public ushort PeerReceiveWindow { get; internal set; }

    /// <summary>Packet Processing Delay the peer announced (1/10 s).</summary>
    public ushort PeerProcessingDelay { get; internal set; }

    /// <summary>Connect Speed from the Outgoing-Call-Reply (bits/s).</summary>
    public uint ConnectSpeed { get; internal set; }

    /// <summary>Result of the peer's Outgoing-Call-Reply (client role), if one came.</summary>
    public OutgoingCallResult? PeerOutgoingResult { get; internal set; }

    /// <summary>Result of the peer's Call-Disconnect-Notify, if one came.</summary>
    public CallDisconnectResult? PeerDisconnectResult { get; internal set; }

    /// <summary>General error code of the peer's last reply or notify.</summary>
    public PptpErrorCode PeerErrorCode { get; internal set; }

    /// <summary>Cause code of the peer's last reply or notify.</summary>
    public ushort PeerCauseCode { get; internal set; }

    /// <summary>True once the peer sent Set-Link-Info.</summary>
    public bool LinkInfoReceived { get; internal set; }

    /// <summary>Send ACCM from the last Set-Link-Info (async framing: all ones by default).</summary>
    public uint SendAccm { get; internal set; } = 0xFFFFFFFF;

    /// <summary>Receive ACCM from the last Set-Link-Info.</summary>
    public uint ReceiveAccm { get; internal set; } = 0xFFFFFFFF;

    /// <summary>The last WAN-Error-Notify the peer sent for this call.</summary>
    public WanErrorNotify? LastWanError { get; internal set; }

    internal ProtocolTimer? Timer { get; set; }

    /// <summary>True until the call is cleared.</summary>
    public bool IsLive => State != PptpCallState.Cleared;
}
