using System.Buffers.Binary;

namespace Firmware.Protocol.Pptp;

/// <summary>Why a control message could not be decoded.</summary>
public enum PptpDecodeStatus
{
    Ok,
    /// <summary>Fewer bytes than the 12-byte header (or the Length field says so).</summary>
    ShorterThanHeader,
    /// <summary>The Length field does not match the bytes handed to the decoder.</summary>
    LengthMismatch,
    /// <summary>The Length field exceeds <see cref="PptpControlCodec.MaximumMessageLength"/>.</summary>
    LongerThanMaximum,
    /// <summary>PPTP Message Type other than 1 (control); type 2 (management) is not defined by RFC 2637.</summary>
    NotControlMessage,
    /// <summary>Magic Cookie other than 0x1A2B3C4D: the stream is out of sync.</summary>
    BadMagicCookie,
    /// <summary>Control Message Type outside 1..15.</summary>
    UnknownMessageType,
    /// <summary>The Length field is shorter than the message type's fixed size.</summary>
    ShorterThanMessageType,
}

/// <summary>
/// Encodes and decodes RFC 2637 control messages (section 2). The decoder takes exactly one framed message
/// (as <see cref="PptpStreamReassembler"/> delivers it), checks every length before reading a field and never
/// throws on peer bytes. A Length larger than the type's fixed size is accepted and the extra octets ignored
/// (robustness); shorter is rejected.
/// </summary>
public static class PptpControlCodec
{
    /// <summary>0x1A2B3C4D, in every control message.</summary>
    public const uint MagicCookie = 0x1A2B3C4D;

    /// <summary>Protocol version 1, revision 0.</summary>
    public const ushort ProtocolVersion = 0x0100;

    /// <summary>PPTP Message Type for control messages.</summary>
    public const ushort ControlMessage = 1;

    /// <summary>Length, PPTP message type, magic cookie, control message type, reserved0.</summary>
    public const int HeaderLength = 12;

    /// <summary>Largest Length we accept; the largest RFC message is 220 octets, so anything beyond 1 KiB is
    /// a broken or hostile stream.</summary>
    public const int MaximumMessageLength = 1024;

    /// <summary>TCP port of the control connection.</summary>
    public const int TcpPort = 1723;

    /// <summary>Fixed encoded length of a control message type, or 0 if the type is unknown.</summary>
    public static int FixedLength(PptpControlMessageType type) => HeaderLength + type switch
    {
        PptpControlMessageType.StartControlConnectionRequest => StartControlConnectionRequest.Body,
        PptpControlMessageType.StartControlConnectionReply => StartControlConnectionReply.Body,
        PptpControlMessageType.StopControlConnectionRequest => StopControlConnectionRequest.Body,
        PptpControlMessageType.StopControlConnectionReply => StopControlConnectionReply.Body,
        PptpControlMessageType.EchoRequest => EchoRequest.Body,
        PptpControlMessageType.EchoReply => EchoReply.Body,
        PptpControlMessageType.OutgoingCallRequest => OutgoingCallRequest.Body,
        PptpControlMessageType.OutgoingCallReply => OutgoingCallReply.Body,
        PptpControlMessageType.IncomingCallRequest => IncomingCallRequest.Body,
        PptpControlMessageType.IncomingCallReply => IncomingCallReply.Body,
        PptpControlMessageType.IncomingCallConnected => IncomingCallConnected.Body,
        PptpControlMessageType.CallClearRequest => CallClearRequest.Body,
        PptpControlMessageType.CallDisconnectNotify => CallDisconnectNotify.Body,
        PptpControlMessageType.WanErrorNotify => WanErrorNotify.Body,
        PptpControlMessageType.SetLinkInfo => SetLinkInfo.Body,
        _ => -HeaderLength,
    };

    /// <summary>Writes <paramref name="message"/> at the start of <paramref name="destination"/> and returns the
    /// number of bytes written (<see cref="PptpControlMessage.EncodedLength"/>).</summary>
    /// <exception cref="ArgumentException">The destination is too small (a caller bug, not peer input).</exception>
    public static int Encode(PptpControlMessage message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        var length = message.EncodedLength;
        if (destination.Length < length)
        {
            throw new ArgumentException($"Need {length} bytes for {message.Type}.", nameof(destination));
        }
        var packet = destination[..length];
        packet.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(packet, (ushort)length);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], ControlMessage);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], MagicCookie);
        BinaryPrimitives.WriteUInt16BigEndian(packet[8..], (ushort)message.Type);
        message.WriteBody(packet[HeaderLength..]);
        return length;
    }

    /// <summary>Encodes into a new array (control plane only).</summary>
    public static byte[] Encode(PptpControlMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bytes = new byte[message.EncodedLength];
        Encode(message, bytes);
        return bytes;
    }

    /// <summary>Checks the header of one framed message: length, message type and magic cookie. Shared by the
    /// decoder and the stream reassembler (which only needs the first 8 bytes).</summary>
    internal static PptpDecodeStatus CheckHeaderPrefix(ReadOnlySpan<byte> prefix)
    {
        var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        if (length < HeaderLength)
        {
            return PptpDecodeStatus.ShorterThanHeader;
        }
        if (length > MaximumMessageLength)
        {
            return PptpDecodeStatus.LongerThanMaximum;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(prefix[2..]) != ControlMessage)
        {
            return PptpDecodeStatus.NotControlMessage;
        }
        return BinaryPrimitives.ReadUInt32BigEndian(prefix[4..]) != MagicCookie
            ? PptpDecodeStatus.BadMagicCookie
            : PptpDecodeStatus.Ok;
    }

    /// <summary>Decodes exactly one control message occupying all of <paramref name="frame"/>.</summary>
    public static PptpDecodeStatus TryDecode(ReadOnlySpan<byte> frame, out PptpControlMessage? message)
    {
        message = null;
        if (frame.Length < HeaderLength)
        {
            return PptpDecodeStatus.ShorterThanHeader;
        }
        var status = CheckHeaderPrefix(frame);
        if (status != PptpDecodeStatus.Ok)
        {
            return status;
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(frame);
        if (length != frame.Length)
        {
            return PptpDecodeStatus.LengthMismatch;
        }
        var type = (PptpControlMessageType)BinaryPrimitives.ReadUInt16BigEndian(frame[8..]);
        var required = FixedLength(type);
        if (required == 0)
        {
            return PptpDecodeStatus.UnknownMessageType;
        }
        if (length < required)
        {
            return PptpDecodeStatus.ShorterThanMessageType;
        }
        var body = frame[HeaderLength..required];
        message = type switch
        {
            PptpControlMessageType.StartControlConnectionRequest => StartControlConnectionRequest.Read(body),
            PptpControlMessageType.StartControlConnectionReply => StartControlConnectionReply.Read(body),
            PptpControlMessageType.StopControlConnectionRequest => StopControlConnectionRequest.Read(body),
            PptpControlMessageType.StopControlConnectionReply => StopControlConnectionReply.Read(body),
            PptpControlMessageType.EchoRequest => EchoRequest.Read(body),
            PptpControlMessageType.EchoReply => EchoReply.Read(body),
            PptpControlMessageType.OutgoingCallRequest => OutgoingCallRequest.Read(body),
            PptpControlMessageType.OutgoingCallReply => OutgoingCallReply.Read(body),
            PptpControlMessageType.IncomingCallRequest => IncomingCallRequest.Read(body),
            PptpControlMessageType.IncomingCallReply => IncomingCallReply.Read(body),
            PptpControlMessageType.IncomingCallConnected => IncomingCallConnected.Read(body),
            PptpControlMessageType.CallClearRequest => CallClearRequest.Read(body),
            PptpControlMessageType.CallDisconnectNotify => CallDisconnectNotify.Read(body),
            PptpControlMessageType.WanErrorNotify => WanErrorNotify.Read(body),
            _ => SetLinkInfo.Read(body),
        };
        return PptpDecodeStatus.Ok;
    }
}
