using System.Buffers.Binary;

namespace Firmware.Protocol.Radius;

/// <summary>
/// Builds one RADIUS packet into a caller's buffer: header first, then attributes in order, then
/// <see cref="Finish"/> writes the Length. A write that does not fit (the buffer, 4096 bytes, or an
/// attribute's 253-byte value) writes nothing and marks the writer as overflowed; <see cref="Finish"/> then
/// returns -1, so callers check once. Signing is separate (<see cref="RadiusAuthenticator.Sign"/>).
/// </summary>
public ref struct RadiusPacketWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <summary>Starts a packet: Code, Identifier and the 16-byte Authenticator field (zero when empty).</summary>
    public RadiusPacketWriter(Span<byte> buffer, RadiusCode code, byte identifier, ReadOnlySpan<byte> authenticator)
    {
        _buffer = buffer.Length > RadiusWire.MaxPacketLength ? buffer[..RadiusWire.MaxPacketLength] : buffer;
        MessageAuthenticatorOffset = -1;
        if (_buffer.Length < RadiusWire.HeaderLength || !(authenticator.IsEmpty || authenticator.Length == RadiusWire.AuthenticatorLength))
        {
            Overflowed = true;
            return;
        }
        _buffer[0] = (byte)code;
        _buffer[1] = identifier;
        var field = _buffer.Slice(4, RadiusWire.AuthenticatorLength);
        if (authenticator.IsEmpty)
        {
            field.Clear();
        }
        else
        {
            authenticator.CopyTo(field);
        }
        _length = RadiusWire.HeaderLength;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    /// <summary>True once something did not fit (or the header was invalid).</summary>
    public bool Overflowed { readonly get; private set; }

    /// <summary>Where the Message-Authenticator attribute starts, or -1.</summary>
    public int MessageAuthenticatorOffset { readonly get; private set; }

    /// <summary>Reserves an attribute with a value of <paramref name="valueLength"/> bytes and returns the value
    /// to fill in; empty (and overflowed) if it does not fit.</summary>
    public Span<byte> Reserve(byte type, int valueLength)
    {
        if (Overflowed || valueLength < 0 || valueLength > RadiusWire.MaxAttributeValueLength
            || valueLength + RadiusWire.AttributeHeaderLength > _buffer.Length - _length)
        {
            Overflowed = true;
            return default;
        }
        _buffer[_length] = type;
        _buffer[_length + 1] = (byte)(valueLength + RadiusWire.AttributeHeaderLength);
        var value = _buffer.Slice(_length + RadiusWire.AttributeHeaderLength, valueLength);
        _length += valueLength + RadiusWire.AttributeHeaderLength;
        return value;
    }

    /// <summary>Reserves a Vendor-Specific attribute holding one sub-attribute and returns its value to fill in.</summary>
    public Span<byte> ReserveVendor(uint vendorId, byte vendorType, int valueLength)
    {
        if (valueLength < 0 || valueLength > RadiusWire.MaxVendorValueLength)
        {
            Overflowed = true;
            return default;
        }
        var value = Reserve((byte)RadiusAttributeType.VendorSpecific, valueLength + RadiusWire.VendorHeaderLength);
        if (Overflowed)
        {
            return default;
        }
        BinaryPrimitives.WriteUInt32BigEndian(value, vendorId);
        value[4] = vendorType;
        value[5] = (byte)(valueLength + 2);
        return value[RadiusWire.VendorHeaderLength..];
    }

    public bool Add(RadiusAttributeType type, scoped ReadOnlySpan<byte> value)
    {
        var field = Reserve((byte)type, value.Length);
        if (!Overflowed)
        {
            value.CopyTo(field);
        }
        return !Overflowed;
    }

    public bool AddUInt32(RadiusAttributeType type, uint value)
    {
        var field = Reserve((byte)type, 4);
        if (!Overflowed)
        {
            BinaryPrimitives.WriteUInt32BigEndian(field, value);
        }
        return !Overflowed;
    }

    public bool AddMicrosoft(MicrosoftAttributeType type, scoped ReadOnlySpan<byte> value)
    {
        var field = ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)type, value.Length);
        if (!Overflowed)
        {
            value.CopyTo(field);
        }
        return !Overflowed;
    }

    public bool AddMicrosoftUInt32(MicrosoftAttributeType type, uint value)
    {
        var field = ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)type, 4);
        if (!Overflowed)
        {
            BinaryPrimitives.WriteUInt32BigEndian(field, value);
        }
        return !Overflowed;
    }

    /// <summary>Adds a zero Message-Authenticator (RFC 3579 section 3.2) for signing to fill; at most one.</summary>
    public bool AddMessageAuthenticator()
    {
        if (MessageAuthenticatorOffset >= 0)
        {
            Overflowed = true;
            return false;
        }
        var offset = _length;
        var field = Reserve((byte)RadiusAttributeType.MessageAuthenticator, RadiusWire.MessageAuthenticatorLength);
        if (Overflowed)
        {
            return false;
        }
        field.Clear();
        MessageAuthenticatorOffset = offset;
        return true;
    }

    /// <summary>Writes the Length field; returns the packet length, or -1 if anything overflowed.</summary>
    public readonly int Finish()
    {
        if (Overflowed)
        {
            return -1;
        }
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)_length);
        return _length;
    }
}
