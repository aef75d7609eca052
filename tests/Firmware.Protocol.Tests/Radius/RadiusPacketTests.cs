using System.Buffers.Binary;
using CsCheck;
using Firmware.Protocol.Radius;
using static Firmware.Protocol.Tests.Radius.RadiusTestVectors;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>The packet reader's bounds and the writer's layout.</summary>
public sealed class RadiusPacketTests
{
    [Fact]
    public void Reads_the_rfc_2865_example_access_request()
    {
        Assert.True(RadiusPacket.TryParse(Rfc2865.AccessRequest, out var packet, out var error));
        Assert.Equal(RadiusParseError.None, error);
        Assert.Equal(RadiusCode.AccessRequest, packet.Code);
        Assert.Equal(0, packet.Identifier);
        Assert.Equal(56, packet.Length);
        Assert.Equal(Rfc2865.RequestAuthenticator, packet.Authenticator.ToArray());
        Assert.True(packet.TryGetAttribute(RadiusAttributeType.UserName, out var name));
        Assert.Equal("nemo"u8.ToArray(), name.ToArray());
        Assert.True(packet.TryGetAttribute(RadiusAttributeType.NasPort, out var port));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32BigEndian(port));
        var types = new List<byte>();
        var offsets = new List<int>();
        foreach (var attribute in packet.Attributes)
        {
            types.Add(attribute.Type);
            offsets.Add(attribute.Offset);
        }
        Assert.Equal([1, 2, 4, 5], types);
        Assert.Equal([20, 26, 44, 50], offsets);
        Assert.False(packet.TryGetAttribute(RadiusAttributeType.ReplyMessage, out _));
    }

    [Fact]
    public void Writer_rebuilds_the_rfc_2865_example_byte_for_byte()
    {
        var buffer = new byte[100];
        var writer = new RadiusPacketWriter(buffer, RadiusCode.AccessRequest, 0, Rfc2865.RequestAuthenticator);
        writer.Add(RadiusAttributeType.UserName, "nemo"u8);
        var hidden = writer.Reserve((byte)RadiusAttributeType.UserPassword, 16);
        Assert.Equal(16, RadiusAttributeCrypto.HideUserPassword("arctangent"u8, Rfc2865.Secret, Rfc2865.RequestAuthenticator, hidden));
        writer.Add(RadiusAttributeType.NasIpAddress, [192, 168, 1, 16]);
        writer.AddUInt32(RadiusAttributeType.NasPort, 3);
        var length = writer.Finish();

        Assert.Equal(Rfc2865.AccessRequest, buffer[..length]);
    }

    [Fact]
    public void Bytes_beyond_length_are_padding()
    {
        var datagram = Rfc2865.AccessRequest.Concat(new byte[] { 0xFF, 0x00, 0x13 }).ToArray();
        Assert.True(RadiusPacket.TryParse(datagram, out var packet, out _));
        Assert.Equal(56, packet.Bytes.Length);
    }

    [Theory]
    [InlineData("01 00 0014 000102030405060708090a0b0c0d0e", RadiusParseError.TooShort)]
    [InlineData("01 00 0013 000102030405060708090a0b0c0d0e0f 00", RadiusParseError.LengthTooSmall)]
    [InlineData("01 00 1001 000102030405060708090a0b0c0d0e0f", RadiusParseError.LengthTooLarge)]
    [InlineData("01 00 0018 000102030405060708090a0b0c0d0e0f 0106", RadiusParseError.LengthBeyondDatagram)]
    [InlineData("01 00 0015 000102030405060708090a0b0c0d0e0f 01", RadiusParseError.AttributeTruncated)]
    [InlineData("01 00 0016 000102030405060708090a0b0c0d0e0f 0101", RadiusParseError.AttributeLengthTooSmall)]
    [InlineData("01 00 0016 000102030405060708090a0b0c0d0e0f 0100", RadiusParseError.AttributeLengthTooSmall)]
    [InlineData("01 00 0018 000102030405060708090a0b0c0d0e0f 0105616263", RadiusParseError.AttributeBeyondPacket)]
    [InlineData("01 00 0018 000102030405060708090a0b0c0d0e0f 1a04 0000", RadiusParseError.MalformedVendorAttribute)]
    [InlineData("01 00 001a 000102030405060708090a0b0c0d0e0f 1a06 00000137", RadiusParseError.MalformedVendorAttribute)]
    [InlineData("01 00 001c 000102030405060708090a0b0c0d0e0f 1a08 00000137 1a05", RadiusParseError.MalformedVendorAttribute)]
    [InlineData("01 00 001c 000102030405060708090a0b0c0d0e0f 1a08 00000137 1a01", RadiusParseError.MalformedVendorAttribute)]
    [InlineData("01 00 001d 000102030405060708090a0b0c0d0e0f 1a09 00000137 0102 07", RadiusParseError.MalformedVendorAttribute)]
    public void Malformed_packets_are_refused_with_a_reason(string hex, RadiusParseError expected)
    {
        Assert.False(RadiusPacket.TryParse(Hex(hex), out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void The_largest_and_smallest_lengths_are_accepted()
    {
        var smallest = Hex("0c 05 0014 000102030405060708090a0b0c0d0e0f");
        Assert.True(RadiusPacket.TryParse(smallest, out var empty, out _));
        Assert.Equal(RadiusCode.StatusServer, empty.Code);
        var count = 0;
        foreach (var attribute in empty.Attributes)
        {
            count++;
        }
        Assert.Equal(0, count);

        var largest = new byte[RadiusWire.MaxPacketLength];
        var writer = new RadiusPacketWriter(largest, RadiusCode.AccessRequest, 1, RequestAuthenticator);
        var room = RadiusWire.MaxPacketLength - RadiusWire.HeaderLength;
        while (room > 0)
        {
            var value = Math.Min(RadiusWire.MaxAttributeValueLength, room - 2);
            writer.Reserve((byte)RadiusAttributeType.Class, value);
            room -= value + 2;
        }
        Assert.Equal(RadiusWire.MaxPacketLength, writer.Finish());
        Assert.True(RadiusPacket.TryParse(largest, out var full, out _));
        Assert.Equal(RadiusWire.MaxPacketLength, full.Length);
    }

    [Fact]
    public void Microsoft_sub_attributes_are_found_by_vendor_and_type()
    {
        var buffer = new byte[200];
        var writer = new RadiusPacketWriter(buffer, RadiusCode.AccessAccept, 9, RequestAuthenticator);
        writer.AddMicrosoftUInt32(MicrosoftAttributeType.MsMppeEncryptionPolicy, 2);
        writer.AddMicrosoft(MicrosoftAttributeType.MsChap2Success, "\u0001S=00"u8);
        // Another vendor's attribute with the same sub-type number is not Microsoft's.
        var other = writer.ReserveVendor(9, (byte)MicrosoftAttributeType.MsMppeEncryptionTypes, 4);
        other.Fill(0xEE);
        writer.AddMicrosoftUInt32(MicrosoftAttributeType.MsMppeEncryptionTypes, 4);
        var length = writer.Finish();

        Assert.True(RadiusPacket.TryParse(buffer.AsSpan(0, length), out var packet, out _));
        Assert.True(packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsMppeEncryptionPolicy, out var policy));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(policy));
        Assert.True(packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsMppeEncryptionTypes, out var types));
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32BigEndian(types));
        Assert.True(packet.TryGetVendorAttribute(9, (byte)MicrosoftAttributeType.MsMppeEncryptionTypes, out var theirs));
        Assert.Equal(0xEEEEEEEEu, BinaryPrimitives.ReadUInt32BigEndian(theirs));
        Assert.True(packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChap2Success, out var success));
        Assert.Equal("\u0001S=00"u8.ToArray(), success.ToArray());
        Assert.False(packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsMppeSendKey, out _));
        // Layout: 26, 12, vendor 311, sub-type 7, sub-length 6, value.
        Assert.Equal(Hex("1a0c 00000137 0706 00000002"), buffer[20..32]);
    }

    [Fact]
    public void Writer_refuses_what_does_not_fit_and_finish_reports_it()
    {
        var small = new byte[24];
        var writer = new RadiusPacketWriter(small, RadiusCode.AccessRequest, 1, RequestAuthenticator);
        Assert.True(writer.Add(RadiusAttributeType.UserName, "ab"u8));
        Assert.False(writer.Add(RadiusAttributeType.UserName, "c"u8));
        Assert.True(writer.Overflowed);
        Assert.Equal(-1, writer.Finish());

        var big = new byte[600];
        var tooLong = new RadiusPacketWriter(big, RadiusCode.AccessRequest, 1, RequestAuthenticator);
        Assert.False(tooLong.Add(RadiusAttributeType.Class, new byte[254]));
        Assert.Equal(-1, tooLong.Finish());

        var vendor = new RadiusPacketWriter(big, RadiusCode.AccessRequest, 1, RequestAuthenticator);
        Assert.True(vendor.AddMicrosoft(MicrosoftAttributeType.MsChapError, new byte[247]));
        Assert.False(vendor.AddMicrosoft(MicrosoftAttributeType.MsChapError, new byte[248]));

        var twice = new RadiusPacketWriter(big, RadiusCode.AccessRequest, 1, RequestAuthenticator);
        Assert.True(twice.AddMessageAuthenticator());
        Assert.False(twice.AddMessageAuthenticator());
        Assert.Equal(-1, twice.Finish());

        Assert.Equal(-1, new RadiusPacketWriter(new byte[19], RadiusCode.AccessRequest, 1, RequestAuthenticator).Finish());
        Assert.Equal(-1, new RadiusPacketWriter(big, RadiusCode.AccessRequest, 1, new byte[15]).Finish());
    }

    [Fact]
    public void Hostile_bytes_never_throw_and_accepted_packets_tile_exactly()
    {
        Gen.Byte.Array[0, 80].Sample(bytes =>
        {
            // Give half the samples a plausible length field so the attribute walk is reached.
            if (bytes.Length >= 20 && bytes[0] % 2 == 0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)bytes.Length);
            }
            if (!RadiusPacket.TryParse(bytes, out var packet, out var error))
            {
                return error != RadiusParseError.None;
            }
            var end = RadiusWire.HeaderLength;
            foreach (var attribute in packet.Attributes)
            {
                if (attribute.Offset != end)
                {
                    return false;
                }
                end += attribute.Value.Length + 2;
                if (attribute.Type == (byte)RadiusAttributeType.VendorSpecific)
                {
                    foreach (var sub in RadiusPacket.VendorSubAttributes(attribute.Value))
                    {
                        _ = sub.Value.Length;
                    }
                }
            }
            _ = packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChap2Success, out _);
            _ = RadiusAuthenticator.VerifyResponse(packet, packet.Identifier, RequestAuthenticator, Secret);
            return end == packet.Length;
        }, iter: 20000);
    }
}
