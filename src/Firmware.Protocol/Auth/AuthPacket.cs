using System.Buffers.Binary;
using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>
/// One PAP or CHAP packet: Code, Identifier, Length, Data (RFC 1334 / RFC 1994). Parsing checks the Length
/// field against the bytes received before anything is read; bytes after Length are link padding and ignored.
/// </summary>
internal readonly ref struct AuthPacket
{
    public const int HeaderLength = 4;

    /// <summary>Names (CHAP Name, PAP Peer-ID) longer than this are refused: no real peer sends them.</summary>
    public const int MaxNameLength = 255;

    private AuthPacket(byte code, byte identifier, ReadOnlySpan<byte> data)
    {
        Code = code;
        Identifier = identifier;
        Data = data;
    }

    public byte Code { get; }

    public byte Identifier { get; }

    public ReadOnlySpan<byte> Data { get; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out AuthPacket parsed)
    {
        parsed = default;
        if (packet.Length < HeaderLength)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (length < HeaderLength || length > packet.Length)
        {
            return false;
        }

        parsed = new AuthPacket(packet[0], packet[1], packet[HeaderLength..length]);
        return true;
    }

    /// <summary>
    /// CHAP Challenge/Response data: Value-Size, Value, Name. The name is whatever is left inside the
    /// packet's Length, never more (the CVE-2020-8597 class of bug reads past it).
    /// </summary>
    public bool TryReadValueAndName(out ReadOnlySpan<byte> value, out ReadOnlySpan<byte> name)
    {
        value = default;
        name = default;
        var data = Data;
        if (data.IsEmpty)
        {
            return false;
        }

        int valueSize = data[0];
        if (valueSize == 0 || 1 + valueSize > data.Length)
        {
            return false;
        }

        value = data.Slice(1, valueSize);
        name = data[(1 + valueSize)..];
        return name.Length <= MaxNameLength;
    }

    /// <summary>PAP Authenticate-Request data: Peer-ID Length, Peer-ID, Passwd-Length, Password.</summary>
    public bool TryReadPapRequest(out ReadOnlySpan<byte> peerId, out ReadOnlySpan<byte> password)
    {
        peerId = default;
        password = default;
        var data = Data;
        if (data.IsEmpty)
        {
            return false;
        }

        int peerIdLength = data[0];
        if (1 + peerIdLength + 1 > data.Length)
        {
            return false;
        }

        peerId = data.Slice(1, peerIdLength);
        int passwordLength = data[1 + peerIdLength];
        var passwordStart = 2 + peerIdLength;
        if (passwordStart + passwordLength > data.Length)
        {
            return false;
        }

        password = data.Slice(passwordStart, passwordLength);
        return true;
    }

    /// <summary>PAP Ack/Nak data: Msg-Length, Message. Empty data is taken as an empty message.</summary>
    public bool TryReadPapMessage(out ReadOnlySpan<byte> message)
    {
        message = default;
        var data = Data;
        if (data.IsEmpty)
        {
            return true;
        }

        int messageLength = data[0];
        if (1 + messageLength > data.Length)
        {
            return false;
        }

        message = data.Slice(1, messageLength);
        return true;
    }

    public static byte[] BuildValueAndName(byte code, byte identifier, ReadOnlySpan<byte> value, ReadOnlySpan<byte> name)
    {
        var packet = new byte[HeaderLength + 1 + value.Length + name.Length];
        WriteHeader(packet, code, identifier);
        packet[HeaderLength] = checked((byte)value.Length);
        value.CopyTo(packet.AsSpan(HeaderLength + 1));
        name.CopyTo(packet.AsSpan(HeaderLength + 1 + value.Length));
        return packet;
    }

    public static byte[] BuildMessage(byte code, byte identifier, ReadOnlySpan<byte> message)
    {
        var packet = new byte[HeaderLength + message.Length];
        WriteHeader(packet, code, identifier);
        message.CopyTo(packet.AsSpan(HeaderLength));
        return packet;
    }

    public static byte[] BuildPapRequest(byte identifier, ReadOnlySpan<byte> peerId, ReadOnlySpan<byte> password)
    {
        var packet = new byte[HeaderLength + 2 + peerId.Length + password.Length];
        WriteHeader(packet, PapCode.AuthenticateRequest, identifier);
        packet[HeaderLength] = checked((byte)peerId.Length);
        peerId.CopyTo(packet.AsSpan(HeaderLength + 1));
        packet[HeaderLength + 1 + peerId.Length] = checked((byte)password.Length);
        password.CopyTo(packet.AsSpan(HeaderLength + 2 + peerId.Length));
        return packet;
    }

    public static byte[] BuildPapReply(byte code, byte identifier, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var length = Math.Min(text.Length, 255);
        var packet = new byte[HeaderLength + 1 + length];
        WriteHeader(packet, code, identifier);
        packet[HeaderLength] = (byte)length;
        text.AsSpan(0, length).CopyTo(packet.AsSpan(HeaderLength + 1));
        return packet;
    }

    /// <summary>Text from the wire for reasons and logs: UTF-8, control characters replaced, bounded.</summary>
    public static string Printable(ReadOnlySpan<byte> text)
    {
        var s = Encoding.UTF8.GetString(text[..Math.Min(text.Length, 255)]);
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]))
            {
                chars[i] = '?';
            }
        }
        return new string(chars);
    }

    private static void WriteHeader(Span<byte> packet, byte code, byte identifier)
    {
        packet[0] = code;
        packet[1] = identifier;
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], checked((ushort)packet.Length));
    }
}

/// <summary>PAP codes (RFC 1334).</summary>
internal static class PapCode
{
    public const byte AuthenticateRequest = 1;
    public const byte AuthenticateAck = 2;
    public const byte AuthenticateNak = 3;
}

/// <summary>CHAP codes (RFC 1994) and the MS-CHAP password-change codes (RFC 2433, RFC 2759).</summary>
internal static class ChapCode
{
    public const byte Challenge = 1;
    public const byte Response = 2;
    public const byte Success = 3;
    public const byte Failure = 4;
    public const byte ChangePasswordV1 = 5;
    public const byte ChangePasswordV2OfMsChapV1 = 6;
    public const byte ChangePasswordMsChapV2 = 7;
}
