namespace Firmware.Protocol.Pptp;

/// <summary>Control Message Type values, RFC 2637 section 2.</summary>
public enum PptpControlMessageType : ushort
{
    StartControlConnectionRequest = 1,
    StartControlConnectionReply = 2,
    StopControlConnectionRequest = 3,
    StopControlConnectionReply = 4,
    EchoRequest = 5,
    EchoReply = 6,
    OutgoingCallRequest = 7,
    OutgoingCallReply = 8,
    IncomingCallRequest = 9,
    IncomingCallReply = 10,
    IncomingCallConnected = 11,
    CallClearRequest = 12,
    CallDisconnectNotify = 13,
    WanErrorNotify = 14,
    SetLinkInfo = 15,
}

/// <summary>General Error Codes, RFC 2637 section 2.16; carried beside a result code.</summary>
public enum PptpErrorCode : byte
{
    None = 0,
    NotConnected = 1,
    BadFormat = 2,
    BadValue = 3,
    NoResource = 4,
    BadCallId = 5,
    PacError = 6,
}

/// <summary>Start-Control-Connection-Reply Result Code, RFC 2637 section 2.2.</summary>
public enum StartControlResult : byte
{
    Successful = 1,
    GeneralError = 2,
    CommandChannelExists = 3,
    NotAuthorized = 4,
    ProtocolVersionNotSupported = 5,
}

/// <summary>Stop-Control-Connection-Request Reason, RFC 2637 section 2.3.</summary>
public enum StopControlReason : byte
{
    /// <summary>General request to clear the control connection.</summary>
    None = 1,
    /// <summary>Cannot support the peer's protocol version.</summary>
    StopProtocol = 2,
    /// <summary>The requester is being shut down.</summary>
    StopLocalShutdown = 3,
}

/// <summary>Stop-Control-Connection-Reply Result Code, RFC 2637 section 2.4.</summary>
public enum StopControlResult : byte
{
    Ok = 1,
    GeneralError = 2,
}

/// <summary>Echo-Reply Result Code, RFC 2637 section 2.6.</summary>
public enum EchoResult : byte
{
    Ok = 1,
    GeneralError = 2,
}

/// <summary>Outgoing-Call-Reply Result Code, RFC 2637 section 2.8.</summary>
public enum OutgoingCallResult : byte
{
    Connected = 1,
    GeneralError = 2,
    NoCarrier = 3,
    Busy = 4,
    NoDialTone = 5,
    TimeOut = 6,
    DoNotAccept = 7,
}

/// <summary>Incoming-Call-Reply Result Code, RFC 2637 section 2.10.</summary>
public enum IncomingCallResult : byte
{
    Connect = 1,
    GeneralError = 2,
    DoNotAccept = 3,
}

/// <summary>Call-Disconnect-Notify Result Code, RFC 2637 section 2.13.</summary>
public enum CallDisconnectResult : byte
{
    LostCarrier = 1,
    GeneralError = 2,
    AdminShutdown = 3,
    Request = 4,
}

/// <summary>Framing Capabilities bits (SCCRQ/SCCRP), RFC 2637 section 2.1.</summary>
[Flags]
public enum PptpFramingCapabilities : uint
{
    None = 0,
    Asynchronous = 1,
    Synchronous = 2,
}

/// <summary>Bearer Capabilities bits (SCCRQ/SCCRP), RFC 2637 section 2.1.</summary>
[Flags]
public enum PptpBearerCapabilities : uint
{
    None = 0,
    Analog = 1,
    Digital = 2,
}

/// <summary>Bearer Type of a call (OCRQ/ICRQ), RFC 2637 section 2.7.</summary>
public enum PptpBearerType : uint
{
    Analog = 1,
    Digital = 2,
    Any = 3,
}

/// <summary>Framing Type of a call (OCRQ/ICCN), RFC 2637 section 2.7.</summary>
public enum PptpFramingType : uint
{
    Asynchronous = 1,
    Synchronous = 2,
    Any = 3,
}
