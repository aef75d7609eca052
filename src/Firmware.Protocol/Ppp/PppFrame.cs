using System.Buffers.Binary;

namespace Firmware.Protocol.Ppp;

/// <summary>
/// Which header compressions apply to frames we send: what the peer agreed to receive through LCP
/// (Address-and-Control-Field-Compression and Protocol-Field-Compression, RFC 1661 6.5 and 6.6).
/// </summary>
/// <param name="CompressAddressControl">Leave out the FF 03 address/control bytes (never for LCP).</param>
/// <param name="CompressProtocol">Send protocols below 0x0100 as one byte.</param>
public readonly record struct PppFraming(bool CompressAddressControl, bool CompressProtocol)
{
    /// <summary>Full headers: what every frame uses before LCP negotiated otherwise.</summary>
    public static PppFraming Uncompressed => default;
}

/// <summary>
/// PPP frames as PPTP carries them inside enhanced GRE (RFC 2637 4.3): no HDLC flags, byte stuffing or FCS,
/// only the optional address/control bytes, the protocol field and the payload.
/// </summary>
public static class PppFrame
{
    /// <summary>The longest PPP header: FF 03 and a two-byte protocol.</summary>
    public const int MaxHeaderLength = 4;

    private const byte AllStationsAddress = 0xFF;
    private const byte UnnumberedInformation = 0x03;

    /// <summary>
    /// Reads the header of <paramref name="frame"/>. Accepts the address/control bytes present or left out and
    /// the protocol field full or compressed, whatever was negotiated (RFC 1661 6.5/6.6 allow receivers to be
    /// liberal). Returns false for frames too short or with an invalid protocol field (RFC 1661 2: the last
    /// protocol octet is odd, the first even).
    /// </summary>
    public static bool TryDecodeHeader(ReadOnlySpan<byte> frame, out PppProtocol protocol, out int headerLength)
    {
        protocol = 0;
        headerLength = 0;
        var index = 0;
        if (frame.Length >= 2 && frame[0] == AllStationsAddress && frame[1] == UnnumberedInformation)
        {
            index = 2;
        }

        if (frame.Length <= index)
        {
            return false;
        }

        var first = frame[index];
        if ((first & 1) != 0)
        {
            protocol = (PppProtocol)first;
            headerLength = index + 1;
            return true;
        }

        if (frame.Length < index + 2 || (frame[index + 1] & 1) == 0)
        {
            return false;
        }

        protocol = (PppProtocol)BinaryPrimitives.ReadUInt16BigEndian(frame[index..]);
        headerLength = index + 2;
        return true;
    }

    /// <summary>Reads a frame into its protocol and a view of its payload (no copy).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, out PppProtocol protocol, out ReadOnlySpan<byte> payload)
    {
        if (!TryDecodeHeader(frame, out protocol, out var headerLength))
        {
            payload = default;
            return false;
        }

        payload = frame[headerLength..];
        return true;
    }

    /// <summary>Header length for <paramref name="protocol"/> under <paramref name="framing"/>.</summary>
    public static int HeaderLength(PppProtocol protocol, PppFraming framing)
    {
        // LCP always travels with full headers so that a renegotiation can be understood (RFC 1661 6.6).
        var addressControl = framing.CompressAddressControl && protocol != PppProtocol.Lcp ? 0 : 2;
        var protocolField = framing.CompressProtocol && CanCompressProtocol(protocol) ? 1 : 2;
        return addressControl + protocolField;
    }

    /// <summary>
    /// Writes the PPP header into <paramref name="buffer"/> directly in front of a payload that already starts
    /// at <paramref name="payloadOffset"/>: the payload is not moved. Returns false when the header room is too
    /// small; otherwise <paramref name="frameOffset"/> is where the frame now starts.
    /// </summary>
    public static bool TryWriteHeader(Span<byte> buffer, int payloadOffset, PppProtocol protocol, PppFraming framing, out int frameOffset)
    {
        var withAddressControl = !framing.CompressAddressControl || protocol == PppProtocol.Lcp;
        var shortProtocol = framing.CompressProtocol && CanCompressProtocol(protocol);
        var length = (withAddressControl ? 2 : 0) + (shortProtocol ? 1 : 2);
        frameOffset = payloadOffset - length;
        if (frameOffset < 0 || payloadOffset > buffer.Length)
        {
            frameOffset = 0;
            return false;
        }

        var header = buffer.Slice(frameOffset, length);
        if (withAddressControl)
        {
            header[0] = AllStationsAddress;
            header[1] = UnnumberedInformation;
            header = header[2..];
        }

        if (shortProtocol)
        {
            header[0] = (byte)protocol;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)protocol);
        }

        return true;
    }

    /// <summary>True for protocol numbers that PFC may shorten to one byte (high byte zero).</summary>
    public static bool CanCompressProtocol(PppProtocol protocol) => (ushort)protocol <= 0xFF;
}
