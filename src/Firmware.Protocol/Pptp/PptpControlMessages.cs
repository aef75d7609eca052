using System.Buffers.Binary;

namespace Firmware.Protocol.Pptp;

/// <summary>
/// One RFC 2637 control message. Each subtype knows its fixed body length and writes/reads its body at the
/// offsets of the RFC's tables; the 12-byte header (length, PPTP message type, magic cookie, control
/// message type, reserved) is handled by <see cref="PptpControlCodec"/>. Reserved fields are written as zero
/// and ignored on receipt. Enum fields keep whatever value the peer sent, known or not.
/// </summary>
public abstract record PptpControlMessage
{
    private protected PptpControlMessage()
    {
    }

    /// <summary>The Control Message Type field.</summary>
    public abstract PptpControlMessageType Type { get; }

    /// <summary>Total encoded length including the header.</summary>
    public int EncodedLength => PptpControlCodec.HeaderLength + BodyLength;

    internal abstract int BodyLength { get; }

    internal abstract void WriteBody(Span<byte> body);
}

/// <summary>Start-Control-Connection-Request (type 1, 156 octets), RFC 2637 section 2.1.</summary>
public sealed record StartControlConnectionRequest : PptpControlMessage
{
    internal const int Body = 144;

    public ushort ProtocolVersion { get; init; } = PptpControlCodec.ProtocolVersion;
    public PptpFramingCapabilities FramingCapabilities { get; init; }
    public PptpBearerCapabilities BearerCapabilities { get; init; }
    public ushort MaximumChannels { get; init; }
    public ushort FirmwareRevision { get; init; }
    public string HostName { get; init; } = string.Empty;
    public string VendorString { get; init; } = string.Empty;

    public override PptpControlMessageType Type => PptpControlMessageType.StartControlConnectionRequest;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, ProtocolVersion);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], (uint)FramingCapabilities);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], (uint)BearerCapabilities);
        BinaryPrimitives.WriteUInt16BigEndian(b[12..], MaximumChannels);
        BinaryPrimitives.WriteUInt16BigEndian(b[14..], FirmwareRevision);
        PptpFixedString.Write(b.Slice(16, 64), HostName);
        PptpFixedString.Write(b.Slice(80, 64), VendorString);
    }

    internal static StartControlConnectionRequest Read(ReadOnlySpan<byte> b) => new()
    {
        ProtocolVersion = BinaryPrimitives.ReadUInt16BigEndian(b),
        FramingCapabilities = (PptpFramingCapabilities)BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
        BearerCapabilities = (PptpBearerCapabilities)BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
        MaximumChannels = BinaryPrimitives.ReadUInt16BigEndian(b[12..]),
        FirmwareRevision = BinaryPrimitives.ReadUInt16BigEndian(b[14..]),
        HostName = PptpFixedString.Read(b.Slice(16, 64)),
        VendorString = PptpFixedString.Read(b.Slice(80, 64)),
    };
}

/// <summary>Start-Control-Connection-Reply (type 2, 156 octets), RFC 2637 section 2.2.</summary>
public sealed record StartControlConnectionReply : PptpControlMessage
{
    internal const int Body = 144;

    public ushort ProtocolVersion { get; init; } = PptpControlCodec.ProtocolVersion;
    public StartControlResult ResultCode { get; init; } = StartControlResult.Successful;
    public PptpErrorCode ErrorCode { get; init; }
    public PptpFramingCapabilities FramingCapabilities { get; init; }
    public PptpBearerCapabilities BearerCapabilities { get; init; }
    public ushort MaximumChannels { get; init; }
    public ushort FirmwareRevision { get; init; }
    public string HostName { get; init; } = string.Empty;
    public string VendorString { get; init; } = string.Empty;

    public override PptpControlMessageType Type => PptpControlMessageType.StartControlConnectionReply;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, ProtocolVersion);
        b[2] = (byte)ResultCode;
        b[3] = (byte)ErrorCode;
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], (uint)FramingCapabilities);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], (uint)BearerCapabilities);
        BinaryPrimitives.WriteUInt16BigEndian(b[12..], MaximumChannels);
        BinaryPrimitives.WriteUInt16BigEndian(b[14..], FirmwareRevision);
        PptpFixedString.Write(b.Slice(16, 64), HostName);
        PptpFixedString.Write(b.Slice(80, 64), VendorString);
    }

    internal static StartControlConnectionReply Read(ReadOnlySpan<byte> b) => new()
    {
        ProtocolVersion = BinaryPrimitives.ReadUInt16BigEndian(b),
        ResultCode = (StartControlResult)b[2],
        ErrorCode = (PptpErrorCode)b[3],
        FramingCapabilities = (PptpFramingCapabilities)BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
        BearerCapabilities = (PptpBearerCapabilities)BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
        MaximumChannels = BinaryPrimitives.ReadUInt16BigEndian(b[12..]),
        FirmwareRevision = BinaryPrimitives.ReadUInt16BigEndian(b[14..]),
        HostName = PptpFixedString.Read(b.Slice(16, 64)),
        VendorString = PptpFixedString.Read(b.Slice(80, 64)),
    };
}

/// <summary>Stop-Control-Connection-Request (type 3, 16 octets), RFC 2637 section 2.3.</summary>
public sealed record StopControlConnectionRequest : PptpControlMessage
{
    internal const int Body = 4;

    public StopControlReason Reason { get; init; } = StopControlReason.None;

    public override PptpControlMessageType Type => PptpControlMessageType.StopControlConnectionRequest;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b) => b[0] = (byte)Reason;

    internal static StopControlConnectionRequest Read(ReadOnlySpan<byte> b) => new() { Reason = (StopControlReason)b[0] };
}

/// <summary>Stop-Control-Connection-Reply (type 4, 16 octets), RFC 2637 section 2.4.</summary>
public sealed record StopControlConnectionReply : PptpControlMessage
{
    internal const int Body = 4;

    public StopControlResult ResultCode { get; init; } = StopControlResult.Ok;
    public PptpErrorCode ErrorCode { get; init; }

    public override PptpControlMessageType Type => PptpControlMessageType.StopControlConnectionReply;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        b[0] = (byte)ResultCode;
        b[1] = (byte)ErrorCode;
    }

    internal static StopControlConnectionReply Read(ReadOnlySpan<byte> b) => new()
    {
        ResultCode = (StopControlResult)b[0],
        ErrorCode = (PptpErrorCode)b[1],
    };
}

/// <summary>Echo-Request (type 5, 16 octets), RFC 2637 section 2.5.</summary>
public sealed record EchoRequest : PptpControlMessage
{
    internal const int Body = 4;

    public uint Identifier { get; init; }

    public override PptpControlMessageType Type => PptpControlMessageType.EchoRequest;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b) => BinaryPrimitives.WriteUInt32BigEndian(b, Identifier);

    internal static EchoRequest Read(ReadOnlySpan<byte> b) => new() { Identifier = BinaryPrimitives.ReadUInt32BigEndian(b) };
}

/// <summary>Echo-Reply (type 6, 20 octets), RFC 2637 section 2.6.</summary>
public sealed record EchoReply : PptpControlMessage
{
    internal const int Body = 8;

    public uint Identifier { get; init; }
    public EchoResult ResultCode { get; init; } = EchoResult.Ok;
    public PptpErrorCode ErrorCode { get; init; }

    public override PptpControlMessageType Type => PptpControlMessageType.EchoReply;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b, Identifier);
        b[4] = (byte)ResultCode;
        b[5] = (byte)ErrorCode;
    }

    internal static EchoReply Read(ReadOnlySpan<byte> b) => new()
    {
        Identifier = BinaryPrimitives.ReadUInt32BigEndian(b),
        ResultCode = (EchoResult)b[4],
        ErrorCode = (PptpErrorCode)b[5],
    };
}

/// <summary>Outgoing-Call-Request (type 7, 168 octets), RFC 2637 section 2.7.</summary>
public sealed record OutgoingCallRequest : PptpControlMessage
{
    internal const int Body = 156;

    public ushort CallId { get; init; }
    public ushort CallSerialNumber { get; init; }
    public uint MinimumBps { get; init; }
    public uint MaximumBps { get; init; }
    public PptpBearerType BearerType { get; init; } = PptpBearerType.Any;
    public PptpFramingType FramingType { get; init; } = PptpFramingType.Any;
    public ushort PacketReceiveWindowSize { get; init; }
    public ushort PacketProcessingDelay { get; init; }
    public string PhoneNumber { get; init; } = string.Empty;
    public string Subaddress { get; init; } = string.Empty;

    public override PptpControlMessageType Type => PptpControlMessageType.OutgoingCallRequest;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, CallId);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], CallSerialNumber);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], MinimumBps);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], MaximumBps);
        BinaryPrimitives.WriteUInt32BigEndian(b[12..], (uint)BearerType);
        BinaryPrimitives.WriteUInt32BigEndian(b[16..], (uint)FramingType);
        BinaryPrimitives.WriteUInt16BigEndian(b[20..], PacketReceiveWindowSize);
        BinaryPrimitives.WriteUInt16BigEndian(b[22..], PacketProcessingDelay);
        var phoneLength = PptpFixedString.Write(b.Slice(28, 64), PhoneNumber);
        BinaryPrimitives.WriteUInt16BigEndian(b[24..], (ushort)phoneLength);
        PptpFixedString.Write(b.Slice(92, 64), Subaddress);
    }

    internal static OutgoingCallRequest Read(ReadOnlySpan<byte> b) => new()
    {
        CallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        CallSerialNumber = BinaryPrimitives.ReadUInt16BigEndian(b[2..]),
        MinimumBps = BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
        MaximumBps = BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
        BearerType = (PptpBearerType)BinaryPrimitives.ReadUInt32BigEndian(b[12..]),
        FramingType = (PptpFramingType)BinaryPrimitives.ReadUInt32BigEndian(b[16..]),
        PacketReceiveWindowSize = BinaryPrimitives.ReadUInt16BigEndian(b[20..]),
        PacketProcessingDelay = BinaryPrimitives.ReadUInt16BigEndian(b[22..]),
        PhoneNumber = ReadCounted(b.Slice(28, 64), BinaryPrimitives.ReadUInt16BigEndian(b[24..])),
        Subaddress = PptpFixedString.Read(b.Slice(92, 64)),
    };

    /// <summary>A counted field: the shorter of the count (capped at the field) and the text before a NUL.</summary>
    internal static string ReadCounted(ReadOnlySpan<byte> field, ushort count) =>
        PptpFixedString.Read(field[..Math.Min((int)count, field.Length)]);
}

/// <summary>Outgoing-Call-Reply (type 8, 32 octets), RFC 2637 section 2.8.</summary>
public sealed record OutgoingCallReply : PptpControlMessage
{
    internal const int Body = 20;

    public ushort CallId { get; init; }
    public ushort PeerCallId { get; init; }
    public OutgoingCallResult ResultCode { get; init; } = OutgoingCallResult.Connected;
    public PptpErrorCode ErrorCode { get; init; }
    public ushort CauseCode { get; init; }
    public uint ConnectSpeed { get; init; }
    public ushort PacketReceiveWindowSize { get; init; }
    public ushort PacketProcessingDelay { get; init; }
    public uint PhysicalChannelId { get; init; }

    public override PptpControlMessageType Type => PptpControlMessageType.OutgoingCallReply;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, CallId);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], PeerCallId);
        b[4] = (byte)ResultCode;
        b[5] = (byte)ErrorCode;
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], CauseCode);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], ConnectSpeed);
        BinaryPrimitives.WriteUInt16BigEndian(b[12..], PacketReceiveWindowSize);
        BinaryPrimitives.WriteUInt16BigEndian(b[14..], PacketProcessingDelay);
        BinaryPrimitives.WriteUInt32BigEndian(b[16..], PhysicalChannelId);
    }

    internal static OutgoingCallReply Read(ReadOnlySpan<byte> b) => new()
    {
        CallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        PeerCallId = BinaryPrimitives.ReadUInt16BigEndian(b[2..]),
        ResultCode = (OutgoingCallResult)b[4],
        ErrorCode = (PptpErrorCode)b[5],
        CauseCode = BinaryPrimitives.ReadUInt16BigEndian(b[6..]),
        ConnectSpeed = BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
        PacketReceiveWindowSize = BinaryPrimitives.ReadUInt16BigEndian(b[12..]),
        PacketProcessingDelay = BinaryPrimitives.ReadUInt16BigEndian(b[14..]),
        PhysicalChannelId = BinaryPrimitives.ReadUInt32BigEndian(b[16..]),
    };
}

/// <summary>Incoming-Call-Request (type 9, 220 octets), RFC 2637 section 2.9.</summary>
public sealed record IncomingCallRequest : PptpControlMessage
{
    internal const int Body = 208;

    public ushort CallId { get; init; }
    public ushort CallSerialNumber { get; init; }
    public PptpBearerType BearerType { get; init; } = PptpBearerType.Any;
    public uint PhysicalChannelId { get; init; }
    public string DialedNumber { get; init; } = string.Empty;
    public string DialingNumber { get; init; } = string.Empty;
    public string Subaddress { get; init; } = string.Empty;

    public override PptpControlMessageType Type => PptpControlMessageType.IncomingCallRequest;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, CallId);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], CallSerialNumber);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], (uint)BearerType);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], PhysicalChannelId);
        var dialed = PptpFixedString.Write(b.Slice(16, 64), DialedNumber);
        var dialing = PptpFixedString.Write(b.Slice(80, 64), DialingNumber);
        BinaryPrimitives.WriteUInt16BigEndian(b[12..], (ushort)dialed);
        BinaryPrimitives.WriteUInt16BigEndian(b[14..], (ushort)dialing);
        PptpFixedString.Write(b.Slice(144, 64), Subaddress);
    }

    internal static IncomingCallRequest Read(ReadOnlySpan<byte> b) => new()
    {
        CallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        CallSerialNumber = BinaryPrimitives.ReadUInt16BigEndian(b[2..]),
        BearerType = (PptpBearerType)BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
        PhysicalChannelId = BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
        DialedNumber = OutgoingCallRequest.ReadCounted(b.Slice(16, 64), BinaryPrimitives.ReadUInt16BigEndian(b[12..])),
        DialingNumber = OutgoingCallRequest.ReadCounted(b.Slice(80, 64), BinaryPrimitives.ReadUInt16BigEndian(b[14..])),
        Subaddress = PptpFixedString.Read(b.Slice(144, 64)),
    };
}

/// <summary>Incoming-Call-Reply (type 10, 24 octets), RFC 2637 section 2.10.</summary>
public sealed record IncomingCallReply : PptpControlMessage
{
    internal const int Body = 12;

    public ushort CallId { get; init; }
    public ushort PeerCallId { get; init; }
    public IncomingCallResult ResultCode { get; init; } = IncomingCallResult.Connect;
    public PptpErrorCode ErrorCode { get; init; }
    public ushort PacketReceiveWindowSize { get; init; }
    public ushort PacketTransmitDelay { get; init; }

    public override PptpControlMessageType Type => PptpControlMessageType.IncomingCallReply;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, CallId);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], PeerCallId);
        b[4] = (byte)ResultCode;
        b[5] = (byte)ErrorCode;
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], PacketReceiveWindowSize);
        BinaryPrimitives.WriteUInt16BigEndian(b[8..], PacketTransmitDelay);
    }

    internal static IncomingCallReply Read(ReadOnlySpan<byte> b) => new()
    {
        CallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        PeerCallId = BinaryPrimitives.ReadUInt16BigEndian(b[2..]),
        ResultCode = (IncomingCallResult)b[4],
        ErrorCode = (PptpErrorCode)b[5],
        PacketReceiveWindowSize = BinaryPrimitives.ReadUInt16BigEndian(b[6..]),
        PacketTransmitDelay = BinaryPrimitives.ReadUInt16BigEndian(b[8..]),
    };
}

/// <summary>Incoming-Call-Connected (type 11, 28 octets), RFC 2637 section 2.11.</summary>
public sealed record IncomingCallConnected : PptpControlMessage
{
    internal const int Body = 16;

    public ushort PeerCallId { get; init; }
    public uint ConnectSpeed { get; init; }
    public ushort PacketReceiveWindowSize { get; init; }
    public ushort PacketTransmitDelay { get; init; }
    public PptpFramingType FramingType { get; init; } = PptpFramingType.Asynchronous;

    public override PptpControlMessageType Type => PptpControlMessageType.IncomingCallConnected;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, PeerCallId);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], ConnectSpeed);
        BinaryPrimitives.WriteUInt16BigEndian(b[8..], PacketReceiveWindowSize);
        BinaryPrimitives.WriteUInt16BigEndian(b[10..], PacketTransmitDelay);
        BinaryPrimitives.WriteUInt32BigEndian(b[12..], (uint)FramingType);
    }

    internal static IncomingCallConnected Read(ReadOnlySpan<byte> b) => new()
    {
        PeerCallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        ConnectSpeed = BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
        PacketReceiveWindowSize = BinaryPrimitives.ReadUInt16BigEndian(b[8..]),
        PacketTransmitDelay = BinaryPrimitives.ReadUInt16BigEndian(b[10..]),
        FramingType = (PptpFramingType)BinaryPrimitives.ReadUInt32BigEndian(b[12..]),
    };
}

/// <summary>Call-Clear-Request (type 12, 16 octets), RFC 2637 section 2.12. Call ID is the sender's own.</summary>
public sealed record CallClearRequest : PptpControlMessage
{
    internal const int Body = 4;

    public ushort CallId { get; init; }

    public override PptpControlMessageType Type => PptpControlMessageType.CallClearRequest;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b) => BinaryPrimitives.WriteUInt16BigEndian(b, CallId);

    internal static CallClearRequest Read(ReadOnlySpan<byte> b) => new() { CallId = BinaryPrimitives.ReadUInt16BigEndian(b) };
}

/// <summary>Call-Disconnect-Notify (type 13, 148 octets), RFC 2637 section 2.13. Call ID is the sender's own.</summary>
public sealed record CallDisconnectNotify : PptpControlMessage
{
    internal const int Body = 136;

    public ushort CallId { get; init; }
    public CallDisconnectResult ResultCode { get; init; } = CallDisconnectResult.Request;
    public PptpErrorCode ErrorCode { get; init; }
    public ushort CauseCode { get; init; }
    public string CallStatistics { get; init; } = string.Empty;

    public override PptpControlMessageType Type => PptpControlMessageType.CallDisconnectNotify;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, CallId);
        b[2] = (byte)ResultCode;
        b[3] = (byte)ErrorCode;
        BinaryPrimitives.WriteUInt16BigEndian(b[4..], CauseCode);
        PptpFixedString.Write(b.Slice(8, PptpFixedString.CallStatisticsLength), CallStatistics);
    }

    internal static CallDisconnectNotify Read(ReadOnlySpan<byte> b) => new()
    {
        CallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        ResultCode = (CallDisconnectResult)b[2],
        ErrorCode = (PptpErrorCode)b[3],
        CauseCode = BinaryPrimitives.ReadUInt16BigEndian(b[4..]),
        CallStatistics = PptpFixedString.Read(b.Slice(8, PptpFixedString.CallStatisticsLength)),
    };
}

/// <summary>WAN-Error-Notify (type 14, 40 octets), RFC 2637 section 2.14. Peer's Call ID is the receiver's.</summary>
public sealed record WanErrorNotify : PptpControlMessage
{
    internal const int Body = 28;

    public ushort PeerCallId { get; init; }
    public uint CrcErrors { get; init; }
    public uint FramingErrors { get; init; }
    public uint HardwareOverruns { get; init; }
    public uint BufferOverruns { get; init; }
    public uint TimeoutErrors { get; init; }
    public uint AlignmentErrors { get; init; }

    public override PptpControlMessageType Type => PptpControlMessageType.WanErrorNotify;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, PeerCallId);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], CrcErrors);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], FramingErrors);
        BinaryPrimitives.WriteUInt32BigEndian(b[12..], HardwareOverruns);
        BinaryPrimitives.WriteUInt32BigEndian(b[16..], BufferOverruns);
        BinaryPrimitives.WriteUInt32BigEndian(b[20..], TimeoutErrors);
        BinaryPrimitives.WriteUInt32BigEndian(b[24..], AlignmentErrors);
    }

    internal static WanErrorNotify Read(ReadOnlySpan<byte> b) => new()
    {
        PeerCallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        CrcErrors = BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
        FramingErrors = BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
        HardwareOverruns = BinaryPrimitives.ReadUInt32BigEndian(b[12..]),
        BufferOverruns = BinaryPrimitives.ReadUInt32BigEndian(b[16..]),
        TimeoutErrors = BinaryPrimitives.ReadUInt32BigEndian(b[20..]),
        AlignmentErrors = BinaryPrimitives.ReadUInt32BigEndian(b[24..]),
    };
}

/// <summary>Set-Link-Info (type 15, 24 octets), RFC 2637 section 2.15. Peer's Call ID is the receiver's.</summary>
public sealed record SetLinkInfo : PptpControlMessage
{
    internal const int Body = 12;

    public ushort PeerCallId { get; init; }
    public uint SendAccm { get; init; } = 0xFFFFFFFF;
    public uint ReceiveAccm { get; init; } = 0xFFFFFFFF;

    public override PptpControlMessageType Type => PptpControlMessageType.SetLinkInfo;
    internal override int BodyLength => Body;

    internal override void WriteBody(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, PeerCallId);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], SendAccm);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], ReceiveAccm);
    }

    internal static SetLinkInfo Read(ReadOnlySpan<byte> b) => new()
    {
        PeerCallId = BinaryPrimitives.ReadUInt16BigEndian(b),
        SendAccm = BinaryPrimitives.ReadUInt32BigEndian(b[4..]),
        ReceiveAccm = BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
    };
}
