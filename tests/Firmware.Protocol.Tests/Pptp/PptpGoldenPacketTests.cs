using Firmware.Protocol.Pptp;
using static Firmware.Protocol.Tests.Pptp.TestHex;

namespace Firmware.Protocol.Tests.Pptp;

/// <summary>
/// Byte-exact encodings of all 15 control messages, written by hand field by field from the tables of
/// RFC 2637 section 2 (octet offsets in the comments), checked both ways.
/// </summary>
public sealed class PptpGoldenPacketTests
{
    private const string Local = "6c6f63616c"; // "local"
    private const string Linux = "6c696e7578"; // "linux"

    public static TheoryData<string, PptpControlMessage, string> Golden => new()
    {
        {
            "SCCRQ", new StartControlConnectionRequest
            {
                FramingCapabilities = PptpFramingCapabilities.Asynchronous,
                BearerCapabilities = PptpBearerCapabilities.Analog,
                MaximumChannels = 0,
                FirmwareRevision = 0x0001,
                HostName = "local",
                VendorString = "linux",
            },
            """
            009c 0001 1a2b3c4d 0001 0000 // 0: Length 156, PPTP Message Type 1, Magic Cookie, type 1, Reserved0
            0100 0000                    // 12: Protocol Version 1.0, Reserved1
            00000001                     // 16: Framing Capabilities: async
            00000001                     // 20: Bearer Capabilities: analog
            0000 0001                    // 24: Maximum Channels, Firmware Revision
            """ + Field(Local, 64) + Field(Linux, 64) // 28: Host Name, 92: Vendor String
        },
        {
            "SCCRP as pptpd sends it", new StartControlConnectionReply
            {
                ResultCode = StartControlResult.Successful,
                MaximumChannels = 1,
                FirmwareRevision = 0x0001,
                HostName = "local",
                VendorString = "linux",
            },
            """
            009c 0001 1a2b3c4d 0002 0000 // Length 156, type 2
            0100 01 00                   // 12: Protocol Version, 14: Result Code 1, 15: Error Code 0
            00000000 00000000            // 16: Framing 0, 20: Bearer 0 (pptpd)
            0001 0001                    // 24: Maximum Channels 1, 26: Firmware Revision 1
            """ + Field(Local, 64) + Field(Linux, 64)
        },
        {
            "StopCCRQ", new StopControlConnectionRequest { Reason = StopControlReason.StopLocalShutdown },
            """
            0010 0001 1a2b3c4d 0003 0000 // Length 16, type 3
            03 00 0000                   // 12: Reason 3 (Stop-Local-Shutdown), Reserved1, Reserved2
            """
        },
        {
            "StopCCRP", new StopControlConnectionReply { ResultCode = StopControlResult.Ok },
            """
            0010 0001 1a2b3c4d 0004 0000 // Length 16, type 4
            01 00 0000                   // 12: Result Code 1, Error Code 0, Reserved1
            """
        },
        {
            "Echo-Request", new EchoRequest { Identifier = 0x12345678 },
            """
            0010 0001 1a2b3c4d 0005 0000 // Length 16, type 5
            12345678                     // 12: Identifier
            """
        },
        {
            "Echo-Reply", new EchoReply { Identifier = 0x12345678, ResultCode = EchoResult.Ok },
            """
            0014 0001 1a2b3c4d 0006 0000 // Length 20, type 6
            12345678 01 00 0000          // 12: Identifier, 16: Result 1, 17: Error 0, 18: Reserved1
            """
        },
        {
            "OCRQ", new OutgoingCallRequest
            {
                CallId = 0x1234,
                CallSerialNumber = 5,
                MinimumBps = 2400,
                MaximumBps = 100_000_000,
                BearerType = PptpBearerType.Any,
                FramingType = PptpFramingType.Any,
                PacketReceiveWindowSize = 64,
                PacketProcessingDelay = 0,
                PhoneNumber = "555",
            },
            """
            00a8 0001 1a2b3c4d 0007 0000 // Length 168, type 7
            1234 0005                    // 12: Call ID, 14: Call Serial Number
            00000960                     // 16: Minimum BPS 2400
            05f5e100                     // 20: Maximum BPS 100000000
            00000003 00000003            // 24: Bearer Type any, 28: Framing Type any
            0040 0000                    // 32: Packet Recv. Window Size 64, 34: Packet Processing Delay
            0003 0000                    // 36: Phone Number Length 3, 38: Reserved1
            """ + Field("353535", 64) + Zeros(64) // 40: Phone Number "555", 104: Subaddress
        },
        {
            "OCRP", new OutgoingCallReply
            {
                CallId = 0,
                PeerCallId = 0x1234,
                ResultCode = OutgoingCallResult.Connected,
                ConnectSpeed = 100_000_000,
                PacketReceiveWindowSize = 64,
                PacketProcessingDelay = 0,
                PhysicalChannelId = 0,
            },
            """
            0020 0001 1a2b3c4d 0008 0000 // Length 32, type 8
            0000 1234                    // 12: Call ID 0 (pptpd), 14: Peer's Call ID
            01 00 0000                   // 16: Result 1, 17: Error 0, 18: Cause Code
            05f5e100                     // 20: Connect Speed
            0040 0000                    // 24: Packet Recv. Window Size, 26: Packet Processing Delay
            00000000                     // 28: Physical Channel ID
            """
        },
        {
            "ICRQ", new IncomingCallRequest
            {
                CallId = 0x4321,
                CallSerialNumber = 7,
                BearerType = PptpBearerType.Analog,
                PhysicalChannelId = 10,
                DialedNumber = "12",
                DialingNumber = "345",
            },
            """
            00dc 0001 1a2b3c4d 0009 0000 // Length 220, type 9
            4321 0007                    // 12: Call ID, 14: Call Serial Number
            00000001                     // 16: Call Bearer Type analog
            0000000a                     // 20: Physical Channel ID
            0002 0003                    // 24: Dialed Number Length, 26: Dialing Number Length
            """ + Field("3132", 64) + Field("333435", 64) + Zeros(64) // 28: Dialed, 92: Dialing, 156: Subaddress
        },
        {
            "ICRP", new IncomingCallReply
            {
                CallId = 0,
                PeerCallId = 0x4321,
                ResultCode = IncomingCallResult.DoNotAccept,
                PacketReceiveWindowSize = 64,
            },
            """
            0018 0001 1a2b3c4d 000a 0000 // Length 24, type 10
            0000 4321                    // 12: Call ID, 14: Peer's Call ID
            03 00                        // 16: Result 3 (Do Not Accept), 17: Error 0
            0040 0000 0000               // 18: Packet Recv. Window Size, 20: Packet Transmit Delay, 22: Reserved1
            """
        },
        {
            "ICCN", new IncomingCallConnected
            {
                PeerCallId = 0x4321,
                ConnectSpeed = 64000,
                PacketReceiveWindowSize = 16,
                PacketTransmitDelay = 2,
                FramingType = PptpFramingType.Asynchronous,
            },
            """
            001c 0001 1a2b3c4d 000b 0000 // Length 28, type 11
            4321 0000                    // 12: Peer's Call ID, 14: Reserved1
            0000fa00                     // 16: Connect Speed 64000
            0010 0002                    // 20: Packet Recv. Window Size, 22: Packet Transmit Delay
            00000001                     // 24: Framing Type async
            """
        },
        {
            "CCRQ", new CallClearRequest { CallId = 0x1234 },
            """
            0010 0001 1a2b3c4d 000c 0000 // Length 16, type 12
            1234 0000                    // 12: Call ID, 14: Reserved1
            """
        },
        {
            "CDN", new CallDisconnectNotify
            {
                CallId = 0,
                ResultCode = CallDisconnectResult.Request,
                CallStatistics = "ok",
            },
            """
            0094 0001 1a2b3c4d 000d 0000 // Length 148, type 13
            0000 04 00                   // 12: Call ID, 14: Result 4 (Request), 15: Error 0
            0000 0000                    // 16: Cause Code, 18: Reserved1
            """ + Field("6f6b", 128) // 20: Call Statistics "ok"
        },
        {
            "WEN", new WanErrorNotify
            {
                PeerCallId = 0x1234,
                CrcErrors = 1,
                FramingErrors = 2,
                HardwareOverruns = 3,
                BufferOverruns = 4,
                TimeoutErrors = 5,
                AlignmentErrors = 6,
            },
            """
            0028 0001 1a2b3c4d 000e 0000 // Length 40, type 14
            1234 0000                    // 12: Peer's Call ID, 14: Reserved1
            00000001 00000002            // 16: CRC Errors, 20: Framing Errors
            00000003 00000004            // 24: Hardware Overruns, 28: Buffer Overruns
            00000005 00000006            // 32: Time-out Errors, 36: Alignment Errors
            """
        },
        {
            "SLI", new SetLinkInfo { PeerCallId = 0x1234, SendAccm = 0xFFFFFFFF, ReceiveAccm = 0 },
            """
            0018 0001 1a2b3c4d 000f 0000 // Length 24, type 15
            1234 0000                    // 12: Peer's Call ID, 14: Reserved1
            ffffffff 00000000            // 16: Send ACCM, 20: Receive ACCM
            """
        },
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void Encodes_byte_exact(string name, PptpControlMessage message, string expectedHex)
    {
        var expected = Parse(expectedHex);
        var actual = PptpControlCodec.Encode(message);
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{name}: expected {Convert.ToHexString(expected)} got {Convert.ToHexString(actual)}");
        Assert.Equal(PptpControlCodec.FixedLength(message.Type), actual.Length);
    }

    [Theory]
    [MemberData(nameof(Golden))]
    public void Decodes_to_the_same_fields(string name, PptpControlMessage message, string expectedHex)
    {
        var status = PptpControlCodec.TryDecode(Parse(expectedHex), out var decoded);
        Assert.Equal(PptpDecodeStatus.Ok, status);
        Assert.True(message.Equals(decoded), name);
    }

    [Fact]
    public void Fixed_lengths_match_RFC_2637()
    {
        int[] rfcLengths = [156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24];
        for (var type = 1; type <= 15; type++)
        {
            Assert.Equal(rfcLengths[type - 1], PptpControlCodec.FixedLength((PptpControlMessageType)type));
        }
        Assert.Equal(0, PptpControlCodec.FixedLength((PptpControlMessageType)16));
        Assert.Equal(0, PptpControlCodec.FixedLength(0));
    }

    [Fact]
    public void Fixed_strings_stop_at_NUL_and_mask_non_printable()
    {
        var message = PptpControlCodec.Encode(new StartControlConnectionRequest { HostName = "ab", VendorString = "v" });
        message[28 + 3] = (byte)'z'; // after the NUL: must be ignored
        message[92] = 0x07;          // BEL in vendor string
        message[93] = 0xC3;          // non-ASCII
        Assert.Equal(PptpDecodeStatus.Ok, PptpControlCodec.TryDecode(message, out var decoded));
        var request = Assert.IsType<StartControlConnectionRequest>(decoded);
        Assert.Equal("ab", request.HostName);
        Assert.Equal("??", request.VendorString);
    }

    [Fact]
    public void A_full_64_byte_host_name_without_NUL_round_trips_and_longer_names_truncate()
    {
        var name64 = new string('h', 64);
        var encoded = PptpControlCodec.Encode(new StartControlConnectionRequest { HostName = name64 + "overflow" });
        PptpControlCodec.TryDecode(encoded, out var decoded);
        Assert.Equal(name64, Assert.IsType<StartControlConnectionRequest>(decoded).HostName);
        Assert.Equal(156, encoded.Length);
    }

    [Fact]
    public void Non_ascii_text_is_written_as_question_marks()
    {
        var encoded = PptpControlCodec.Encode(new OutgoingCallRequest { PhoneNumber = "5\u00e95" });
        Assert.Equal((byte)'?', encoded[41]);
        Assert.Equal(3, encoded[37]);
    }

    [Fact]
    public void Phone_number_length_field_caps_the_text()
    {
        var encoded = PptpControlCodec.Encode(new OutgoingCallRequest { PhoneNumber = "123456" });
        encoded[37] = 2; // Phone Number Length says 2
        PptpControlCodec.TryDecode(encoded, out var decoded);
        Assert.Equal("12", Assert.IsType<OutgoingCallRequest>(decoded).PhoneNumber);
        encoded[36] = 0xFF; // absurd length: capped at the field
        PptpControlCodec.TryDecode(encoded, out decoded);
        Assert.Equal("123456", Assert.IsType<OutgoingCallRequest>(decoded).PhoneNumber);
    }
}
