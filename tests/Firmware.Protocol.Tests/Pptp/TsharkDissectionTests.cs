using System.Diagnostics;
using System.Net;
using Firmware.Protocol.Gre;
using Firmware.Protocol.Pptp;

namespace Firmware.Protocol.Tests.Pptp;

/// <summary>
/// An independent decoder as the judge: our encodings of all 15 control messages (in TCP) and of GRE data,
/// data+ack and ack-only packets (in IPv4) go into a pcap that tshark must dissect with the expected field
/// values and without "Malformed" or error-level expert info.
/// </summary>
public sealed class TsharkDissectionTests
{
    private static readonly IPAddress ClientAddress = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress ServerAddress = IPAddress.Parse("192.0.2.1");

    internal static string FindTshark()
    {
        foreach (var candidate in new[] { "/usr/bin/tshark", "/usr/local/bin/tshark" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        Assert.Fail("tshark not found: install tshark (scripts/setup does)");
        return string.Empty;
    }

    private static string RunTshark(byte[] pcap)
    {
        var tshark = FindTshark();
        var directory = Directory.CreateTempSubdirectory("pptp-tshark-");
        try
        {
            var file = Path.Combine(directory.FullName, "pptp.pcap");
            File.WriteAllBytes(file, pcap);
            var start = new ProcessStartInfo(tshark)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // -n: no name lookups; -V: every field.
            foreach (var argument in new[] { "-n", "-r", file, "-V" })
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var standardError = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(60_000), "tshark did not finish");
            Assert.True(process.ExitCode == 0, $"tshark failed ({process.ExitCode}): {standardError.Result}");
            return output;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void Control(PcapWriter pcap, bool fromClient, PptpControlMessage message)
    {
        var bytes = PptpControlCodec.Encode(message);
        if (fromClient)
        {
            pcap.AddTcp(ClientAddress, 40000, ServerAddress, (ushort)PptpControlCodec.TcpPort, bytes);
        }
        else
        {
            pcap.AddTcp(ServerAddress, (ushort)PptpControlCodec.TcpPort, ClientAddress, 40000, bytes);
        }
    }

    [Fact]
    public void Tshark_decodes_our_control_messages_and_gre_packets()
    {
        var pcap = new PcapWriter();
        Control(pcap, true, new StartControlConnectionRequest
        {
            FramingCapabilities = PptpFramingCapabilities.Asynchronous,
            BearerCapabilities = PptpBearerCapabilities.Analog,
            FirmwareRevision = 0x0100,
            HostName = "gateway-client",
            VendorString = "pptp-gateway",
        });
        Control(pcap, false, new StartControlConnectionReply { MaximumChannels = 1, FirmwareRevision = 1, HostName = "local", VendorString = "linux" });
        Control(pcap, true, new OutgoingCallRequest
        {
            CallId = 0x1234,
            CallSerialNumber = 7,
            MinimumBps = 2400,
            MaximumBps = 100_000_000,
            PacketReceiveWindowSize = 64,
            PhoneNumber = "5551234",
        });
        Control(pcap, false, new OutgoingCallReply { CallId = 0x0000, PeerCallId = 0x1234, ConnectSpeed = 100_000_000, PacketReceiveWindowSize = 64 });
        Control(pcap, true, new SetLinkInfo { PeerCallId = 0x0000, SendAccm = 0xFFFFFFFF, ReceiveAccm = 0xFFFFFFFF });
        Control(pcap, true, new EchoRequest { Identifier = 0xCAFE });
        Control(pcap, false, new EchoReply { Identifier = 0xCAFE });
        Control(pcap, false, new IncomingCallRequest { CallId = 0x0042, CallSerialNumber = 2, DialedNumber = "100", DialingNumber = "200" });
        Control(pcap, true, new IncomingCallReply { PeerCallId = 0x0042, ResultCode = IncomingCallResult.DoNotAccept, PacketReceiveWindowSize = 64 });
        Control(pcap, false, new IncomingCallConnected { PeerCallId = 0x1234, ConnectSpeed = 64000, PacketReceiveWindowSize = 16 });
        Control(pcap, false, new WanErrorNotify { PeerCallId = 0x1234, CrcErrors = 3 });
        Control(pcap, true, new CallClearRequest { CallId = 0x1234 });
        Control(pcap, false, new CallDisconnectNotify { CallId = 0x0000, ResultCode = CallDisconnectResult.Request, CallStatistics = "bye" });
        Control(pcap, true, new StopControlConnectionRequest { Reason = StopControlReason.StopLocalShutdown });
        Control(pcap, false, new StopControlConnectionReply());

        // GRE: data with sequence and ack (an LCP Echo-Request inside PPP), data with sequence only, ack-only.
        byte[] lcpEcho = [0xFF, 0x03, 0xC0, 0x21, 0x09, 0x01, 0x00, 0x08, 0x12, 0x34, 0x56, 0x78];
        var buffer = new byte[GreCodec.MaxHeaderLength + lcpEcho.Length];
        lcpEcho.CopyTo(buffer, GreCodec.MaxHeaderLength);
        var start = GreCodec.WriteHeader(buffer, GreCodec.MaxHeaderLength, lcpEcho.Length, 0x1234, true, 5, true, 3);
        pcap.AddGre(ServerAddress, ClientAddress, buffer.AsSpan(start));
        start = GreCodec.WriteHeader(buffer, GreCodec.MaxHeaderLength, lcpEcho.Length, 0x0000, true, 6, false, 0);
        pcap.AddGre(ClientAddress, ServerAddress, buffer.AsSpan(start));
        var ack = new byte[GreCodec.AckOnlyLength];
        GreCodec.WriteAckOnly(ack, 0x1234, 6);
        pcap.AddGre(ServerAddress, ClientAddress, ack);

        var output = RunTshark(pcap.ToArray());

        Assert.DoesNotContain("Malformed", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Expert Info (Error", output, StringComparison.Ordinal);
        string[] expected =
        [
            "Point-to-Point Tunnelling Protocol",
            "Magic Cookie: 0x1a2b3c4d (correct)",
            "Control Message Type: Start-Control-Connection-Request (1)",
            "Control Message Type: Start-Control-Connection-Reply (2)",
            "Control Message Type: Stop-Control-Connection-Request (3)",
            "Control Message Type: Stop-Control-Connection-Reply (4)",
            "Control Message Type: Echo-Request (5)",
            "Control Message Type: Echo-Reply (6)",
            "Control Message Type: Outgoing-Call-Request (7)",
            "Control Message Type: Outgoing-Call-Reply (8)",
            "Control Message Type: Incoming-Call-Request (9)",
            "Control Message Type: Incoming-Call-Reply (10)",
            "Control Message Type: Incoming-Call-Connected (11)",
            "Control Message Type: Call-Clear-Request (12)",
            "Control Message Type: Call-Disconnect-Notify (13)",
            "Control Message Type: WAN-Error-Notify (14)",
            "Control Message Type: Set-Link-Info (15)",
            "Protocol version: 1.0",
            "Host Name: gateway-client",
            "Vendor Name: pptp-gateway",
            "Host Name: local",
            "Vendor Name: linux",
            "Maximum Channels: 1",
            "Call ID: 4660",
            "Peer Call ID: 4660",
            "Call Serial Number: 7",
            "Minimum BPS: 2400",
            "Maximum BPS: 100000000",
            "Packet Receive Window Size: 64",
            "Phone Number Length: 7",
            "Phone Number: 5551234",
            "Connect Speed: 100000000",
            "Send ACCM: 0xffffffff",
            "Identifier: 51966",
            "Dialed Number: 100",
            "Dialing Number: 200",
            "Result Code: Do Not Accept (3)",
            "CRC Errors: 3",
            "Result Code: Request (4)",
            "Call Statistics: bye",
            "Reason: Stop-Local-Shutdown (3)",
            "Generic Routing Encapsulation (PPP)",
            "Flags and Version: 0x3081",
            "Flags and Version: 0x3001",
            "Flags and Version: 0x2081",
            "Version: Enhanced GRE (1)",
            "Protocol Type: PPP (0x880b)",
            "Payload Length: 12",
            "Payload Length: 0",
            "Sequence Number: 5",
            "Acknowledgment Number: 3",
            "Sequence Number: 6",
            "Acknowledgment Number: 6",
            "Code: Echo Request (9)",
            "Magic Number: 0x12345678",
        ];
        // Whole fields only: a line equal to the text, or a bit-field line ending in "= text".
        var lines = output.Split('\n').Select(line => line.Trim()).ToHashSet();
        foreach (var text in expected)
        {
            Assert.True(lines.Contains(text) || lines.Any(line => line.EndsWith("= " + text, StringComparison.Ordinal)),
                $"tshark output lacks \"{text}\":\n{output}");
        }
    }
}
