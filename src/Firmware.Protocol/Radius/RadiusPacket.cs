using System.Buffers.Binary;

namespace Firmware.Protocol.Radius;

/// <summary>Why a datagram is not a well-formed RADIUS packet.</summary>
public enum RadiusParseError
{
    None,
    /// <summary>Shorter than the 20-byte header.</summary>
    TooShort,
    /// <summary>The Length field is below 20.</summary>
    LengthTooSmall,
    /// <summary>The Length field is above 4096.</summary>
    LengthTooLarge,
    /// <summary>The Length field claims more bytes than the datagram holds (RFC 2865: silently discarded).</summary>
    LengthBeyondDatagram,
    /// <summary>One byte left where an attribute's type and length should be.</summary>
    AttributeTruncated,
    /// <summary>An attribute length below 2.</summary>
    AttributeLengthTooSmall,
    /// <summary>An attribute runs past the packet's Length.</summary>
    AttributeBeyondPacket,
    /// <summary>A Microsoft Vendor-Specific attribute whose sub-attributes do not tile its value.</summary>
    MalformedVendorAttribute,
}

/// <summary>One attribute: its type and a view of its value inside the packet.</summary>
public readonly ref struct RadiusAttributeView
{
    public RadiusAttributeView(byte type, int offset, ReadOnlySpan<byte> value)
    {
        Type = type;
        Offset = offset;
        Value = value;
    }

    /// <summary>The attribute type byte.</summary>
    public byte Type { get; }

    /// <summary>Where the attribute (its type byte) starts in the packet.</summary>
    public int Offset { get; }

    /// <summary>The value bytes (without type and length).</summary>
    public ReadOnlySpan<byte> Value { get; }
}

/// <summary>Walks a run of type-length-value attributes that has already been validated.</summary>
public ref struct RadiusAttributeEnumerator
{
    private readonly ReadOnlySpan<byte> _attributes;
    private readonly int _baseOffset;
    private int _next;

    internal RadiusAttributeEnumerator(ReadOnlySpan<byte> attributes, int baseOffset)
    {
        _attributes = attributes;
        _baseOffset = baseOffset;
        _next = 0;
        Current = default;
    }

    public RadiusAttributeView Current { get; private set; }

    public readonly RadiusAttributeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        // Bounds are checked again so the enumerator is safe even on bytes nobody validated.
        if (_attributes.Length - _next < RadiusWire.AttributeHeaderLength)
        {
            return false;
        }
        int length = _attributes[_next + 1];
        if (length < RadiusWire.AttributeHeaderLength || length > _attributes.Length - _next)
        {
            _next = _attributes.Length;
            return false;
        }
        Current = new RadiusAttributeView(_attributes[_next], _baseOffset + _next, _attributes.Slice(_next + RadiusWire.AttributeHeaderLength, length - RadiusWire.AttributeHeaderLength));
        _next += length;
        return true;
    }
}

/// <summary>
/// A validated view of one RADIUS packet (RFC 2865 section 3): Code, Identifier, Length, Authenticator and
/// the attributes, all inside the datagram it was parsed from. Bytes beyond Length are padding and not part
/// of the view. Parsing allocates nothing and never throws on peer bytes.
/// </summary>
public readonly ref struct RadiusPacket
{
    private RadiusPacket(ReadOnlySpan<byte> bytes)
    {
        Bytes = bytes;
    }

    /// <summary>The packet's bytes, exactly Length long.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    public RadiusCode Code => (RadiusCode)Bytes[0];

    public byte Identifier => Bytes[1];

    public int Length => Bytes.Length;

    /// <summary>The 16-byte Request or Response Authenticator.</summary>
    public ReadOnlySpan<byte> Authenticator => Bytes.Slice(4, RadiusWire.AuthenticatorLength);

    /// <summary>Everything after the header.</summary>
    public ReadOnlySpan<byte> AttributeBytes => Bytes[RadiusWire.HeaderLength..];

    /// <summary>The attributes in order.</summary>
    public RadiusAttributeEnumerator Attributes => new(AttributeBytes, RadiusWire.HeaderLength);

    /// <summary>
    /// Checks the header and that the attributes tile the packet exactly (each length at least 2, none past
    /// Length), and that Microsoft Vendor-Specific attributes are well formed.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out RadiusPacket packet, out RadiusParseError error)
    {
        packet = default;
        if (datagram.Length < RadiusWire.HeaderLength)
        {
            error = RadiusParseError.TooShort;
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        error = length < RadiusWire.HeaderLength ? RadiusParseError.LengthTooSmall
            : length > RadiusWire.MaxPacketLength ? RadiusParseError.LengthTooLarge
            : length > datagram.Length ? RadiusParseError.LengthBeyondDatagram
            : RadiusParseError.None;
        if (error != RadiusParseError.None)
        {
            return false;
        }

        var bytes = datagram[..length];
        var attributes = bytes[RadiusWire.HeaderLength..];
        var next = 0;
        while (next < attributes.Length)
        {
            if (attributes.Length - next < RadiusWire.AttributeHeaderLength)
            {
                error = RadiusParseError.AttributeTruncated;
                return false;
            }
            int attributeLength = attributes[next + 1];
            if (attributeLength < RadiusWire.AttributeHeaderLength)
            {
                error = RadiusParseError.AttributeLengthTooSmall;
                return false;
            }
            if (attributeLength > attributes.Length - next)
            {
                error = RadiusParseError.AttributeBeyondPacket;
                return false;
            }
            if (attributes[next] == (byte)RadiusAttributeType.VendorSpecific
                && !IsWellFormedVendorAttribute(attributes.Slice(next + 2, attributeLength - 2)))
            {
                error = RadiusParseError.MalformedVendorAttribute;
                return false;
            }
            next += attributeLength;
        }

        packet = new RadiusPacket(bytes);
        return true;
    }

    /// <summary>The first attribute of that type; false if there is none.</summary>
    public bool TryGetAttribute(RadiusAttributeType type, out ReadOnlySpan<byte> value)
    {
        foreach (var attribute in Attributes)
        {
            if (attribute.Type == (byte)type)
            {
                value = attribute.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>How many attributes of that type the packet carries.</summary>
    public int CountAttributes(RadiusAttributeType type)
    {
        var count = 0;
        foreach (var attribute in Attributes)
        {
            if (attribute.Type == (byte)type)
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>The first vendor sub-attribute of that vendor and type; false if there is none.</summary>
    public bool TryGetVendorAttribute(uint vendorId, byte vendorType, out ReadOnlySpan<byte> value)
    {
        foreach (var attribute in Attributes)
        {
            if (attribute.Type != (byte)RadiusAttributeType.VendorSpecific || attribute.Value.Length < 4
                || BinaryPrimitives.ReadUInt32BigEndian(attribute.Value) != vendorId)
            {
                continue;
            }
            foreach (var sub in VendorSubAttributes(attribute.Value))
            {
                if (sub.Type == vendorType)
                {
                    value = sub.Value;
                    return true;
                }
            }
        }
        value = default;
        return false;
    }

    /// <summary>The first Microsoft (vendor 311) sub-attribute of that type.</summary>
    public bool TryGetMicrosoftAttribute(MicrosoftAttributeType type, out ReadOnlySpan<byte> value) =>
        TryGetVendorAttribute(RadiusWire.MicrosoftVendorId, (byte)type, out value);

    /// <summary>
    /// The sub-attributes of a Vendor-Specific value in RFC 2865's suggested format (vendor type, vendor
    /// length, value), after the 4-byte Vendor-Id. Offsets are relative to the Vendor-Specific value.
    /// </summary>
    public static RadiusAttributeEnumerator VendorSubAttributes(ReadOnlySpan<byte> vendorSpecificValue) =>
        vendorSpecificValue.Length < 4 ? default : new(vendorSpecificValue[4..], 4);

    private static bool IsWellFormedVendorAttribute(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4)
        {
            return false;
        }
        if (BinaryPrimitives.ReadUInt32BigEndian(value) != RadiusWire.MicrosoftVendorId)
        {
            // Other vendors' formats are theirs to define; we only read Microsoft's.
            return true;
        }
        var subAttributes = value[4..];
        if (subAttributes.IsEmpty)
        {
            return false;
        }
        var next = 0;
        while (next < subAttributes.Length)
        {
            if (subAttributes.Length - next < 2)
            {
                return false;
            }
            int length = subAttributes[next + 1];
            if (length < 2 || length > subAttributes.Length - next)
            {
                return false;
            }
            next += length;
        }
        return true;
    }
}
