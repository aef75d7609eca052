using System.Net;
using Firmware.Gateway.Configuration;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ccp;
using Firmware.Protocol.Dhcp;
using Firmware.Protocol.Gre;
using Firmware.Protocol.Ip;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Ipcp;
using Firmware.Protocol.Ppp.Ipv6cp;
using Firmware.Protocol.Ppp.Lcp;
using Firmware.Protocol.Pptp;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Win32.SafeHandles;
using SharpFuzz;

namespace Fuzz;

/// <summary>
/// The fuzz targets, one per decoder. `Fuzz TARGET` runs under afl-fuzz (SharpFuzz's in-process fork
/// server); `Fuzz TARGET --replay FILE...` runs files once each and exits 1 on the first that throws (the
/// test suite replays the saved corpus and every past crash this way); `Fuzz --instrument DLL` instruments an
/// assembly for AFL in place; `Fuzz --list` names the targets. The decoders' contract is "never throw on any
/// input": every exception that escapes a target is a crash.
/// Stateful targets read their input as packets, each preceded by one length byte, so one input can drive a
/// whole exchange.
/// </summary>
internal static class Program
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["pptp-control"] = PptpControl,
        ["pptp-stream"] = PptpStream,
        ["gre"] = Gre,
        ["ppp-frame"] = PppFrames,
        ["lcp"] = data => Control(data, (time, output) => new LcpProtocol(
            new LcpSettings(), AuthPolicy.ServerDefault, new PppAutomatonSettings(), time, output, Fill)),
        ["ipcp"] = data => Control(data, (time, output) => new IpcpProtocol(
            new IpcpSettings { LocalAddress = IPAddress.Parse("192.168.100.1"), PeerAddress = IPAddress.Parse("192.168.100.10") },
            new PppAutomatonSettings(), time, output)),
        ["ipv6cp"] = data => Control(data, (time, output) => new Ipv6cpProtocol(
            new Ipv6cpSettings(), new PppAutomatonSettings(), time, output, Fill)),
        ["ccp"] = data => Control(data, (time, output) => new CcpProtocol(
            MppeNegotiationPolicy.Default, data.Length > 0 && (data[0] & 1) == 0, new PppAutomatonSettings(), time, output)),
        ["pap"] = data => Auth(data, AuthMethod.Pap),
        ["chap"] = data => Auth(data, AuthMethod.ChapMd5),
        ["mschapv1"] = data => Auth(data, AuthMethod.MsChapV1),
        ["mschapv2"] = data => Auth(data, AuthMethod.MsChapV2),
        ["mppe"] = Mppe,
        ["config"] = data => _ = ConfigLoader.Parse("fuzz.json", data, new FixedLocalNetworks(
            new LocalNetwork("eth0", new IPNetwork(IPAddress.Parse("10.0.0.0"), 16)))),
        ["pptpd"] = Pptpd,
        ["mss"] = data => _ = TcpMssClamp.TryClamp(data, ipv4Limit: 536, ipv6Limit: 1220),
        ["dhcp"] = Dhcp,
        ["tun-offload"] = TunOffload,
        ["tcp-coalesce"] = TcpCoalesce,
        ["radius"] = RadiusAnswer,
        ["radius-dynamic"] = RadiusDynamic,
    };

    public static int Main(string[] args)
    {
        if (args is ["--list"])
        {
            Console.WriteLine(string.Join('\n', Targets.Keys));
            return 0;
        }
        if (args is ["--instrument", var assembly])
        {
            foreach (var type in Fuzzer.Instrument(assembly, _ => true, Options.Value))
            {
                _ = type;
            }
            return 0;
        }
        if (args.Length == 0 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine("usage: Fuzz TARGET [--replay FILE...] | --instrument DLL | --list");
            return 2;
        }
        if (args.Length > 1 && args[1] == "--replay")
        {
            foreach (var file in args[2..])
            {
                try
                {
                    target(File.ReadAllBytes(file));
                }
                catch (Exception e)
                {
                    Console.Error.WriteLine($"{args[0]}: {file}: {e}");
                    return 1;
                }
            }
            return 0;
        }
        Fuzzer.Run(stream => target(ReadInput(stream)));
        return 0;
    }

    private static readonly FileStream StandardInput = new(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);

    /// <summary>
    /// The input of one execution: the whole of stdin, read from offset 0 of the file afl-fuzz keeps there,
    /// not from the stream SharpFuzz passes. For its first execution SharpFuzz copies stdin as soon as it has
    /// said hello, which can be before afl-fuzz has written the first seed: on a loaded machine the first seed
    /// then ran as an empty input, and a target that touches no instrumented code on empty input (gre) made
    /// afl-fuzz abort with "No instrumentation detected". afl-fuzz writes the file before it asks for a run,
    /// so reading it at the run is always right (as a file named by @@ would be; stdin keeps the command line of
    /// the runs already on disk). A stdin that cannot seek (a pipe, outside afl-fuzz) is read from the stream.
    /// </summary>
    private static byte[] ReadInput(Stream stream)
    {
        if (!StandardInput.CanSeek)
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        var input = new byte[StandardInput.Length];
        var read = 0;
        while (read < input.Length)
        {
            var count = RandomAccess.Read(StandardInput.SafeFileHandle, input.AsSpan(read), read);
            if (count == 0)
            {
                return input[..read];
            }
            read += count;
        }
        return input;
    }

    /// <summary>What the kernel hands an offloading TUN: a virtio-net header, then the packet to cut.</summary>
    private static void TunOffload(byte[] data)
    {
        if (data.Length < VirtioNetHeader.Size)
        {
            return;
        }
        var header = VirtioNetHeader.Read(data);
        var packet = data.AsSpan(VirtioNetHeader.Size);
        if (!GsoSegmenter.TryPlan(header, packet, out var plan, out _))
        {
            return;
        }
        Span<byte> segment = stackalloc byte[2048];
        for (var i = 0; i < plan.Count; i++)
        {
            var length = GsoSegmenter.WriteSegment(plan, packet, i, segment);
            if (length > segment.Length)
            {
                throw new InvalidOperationException($"segment {i} claims {length} bytes");
            }
        }
    }

    /// <summary>
    /// A tunnel's received packets through the coalescer. With the first byte odd, each packet's TCP checksum
    /// is made right first, so the fuzzer reaches the joining rules rather than stopping at the checksum.
    /// Whatever goes in must come out: a lost or invented segment is a crash.
    /// </summary>
    private static void TcpCoalesce(byte[] data)
    {
        if (data.Length == 0)
        {
            return;
        }
        var fixChecksums = (data[0] & 1) != 0;
        var coalescer = new TcpCoalescer(new SuperPacketBuffers());
        var sink = new CountingSink();
        var count = 0;
        foreach (var packet in Packets(data[1..]))
        {
            if (fixChecksums)
            {
                FixTcpChecksum(packet);
            }
            coalescer.Add(packet, sink);
            count++;
        }
        coalescer.Flush();
        if (sink.Segments != count)
        {
            throw new InvalidOperationException($"{count} packets went in, {sink.Segments} came out");
        }
    }

    private static void FixTcpChecksum(Span<byte> packet)
    {
        var ipLength = packet.Length >= 1 && packet[0] >> 4 == 6 ? 40 : 20;
        if (packet.Length < ipLength + 20)
        {
            return;
        }
        var tcp = packet[ipLength..];
        tcp[16] = tcp[17] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.Finish(InternetChecksum.Transport(packet, ipLength, 6)));
    }

    private sealed class CountingSink : ISuperPacketSink
    {
        public int Segments { get; private set; }

        public void WritePacket(ReadOnlySpan<byte> packet) => Segments++;

        public void WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet)
        {
            if (!GsoSegmenter.TryPlan(header, packet, out var plan, out var error))
            {
                throw new InvalidOperationException($"the coalescer made a super-packet the segmenter refuses: {error}");
            }
            Segments += plan.Count;
        }
    }

    /// <summary>
    /// A RADIUS server's answer to our Access-Request. The first byte picks the method and whether the rest is
    /// signed with the right secret first: unsigned inputs test the checks at the door, signed ones reach the
    /// attribute readers (MS-CHAP2-Success, the MPPE key decryption, MS-CHAP-Error) behind them.
    /// </summary>
    private static void RadiusAnswer(byte[] data)
    {
        if (data.Length < 2)
        {
            return;
        }
        var method = (data[0] & 3) switch { 0 => AuthMethod.Pap, 1 => AuthMethod.ChapMd5, 2 => AuthMethod.MsChapV1, _ => AuthMethod.MsChapV2 };
        var datagram = data[1..];
        ReadOnlySpan<byte> secret = "fuzz-secret"u8;
        Span<byte> requestAuthenticator = stackalloc byte[16];
        requestAuthenticator.Fill(0x42);
        if ((data[0] & 4) != 0)
        {
            _ = RadiusAuthenticator.Sign(datagram, secret, requestAuthenticator);
        }
        var identifier = datagram.Length > 1 ? datagram[1] : (byte)0;
        _ = RadiusAccessAnswer.TryRead(datagram, identifier, requestAuthenticator, secret, method, out _);
    }

    /// <summary>
    /// A Disconnect-Request or CoA-Request at our dynamic authorization port. The first byte says whether the rest
    /// is signed with the right secret first, so the attribute reader and the answer writer behind the check are reached.
    /// </summary>
    private static void RadiusDynamic(byte[] data)
    {
        if (data.Length < 2)
        {
            return;
        }
        var datagram = data[1..];
        ReadOnlySpan<byte> secret = "fuzz-secret"u8;
        if ((data[0] & 1) != 0)
        {
            _ = RadiusAuthenticator.Sign(datagram, secret);
        }
        if (RadiusDynamicRequest.TryRead(datagram, secret, out var request) == RadiusVerifyError.None)
        {
            _ = request!.Judge(IPAddress.Parse("192.0.2.1"), "pptp-gateway", out _);
            _ = request.Selector.Matches("s1", "alice", null, "198.51.100.7");
            Span<byte> answer = stackalloc byte[RadiusWire.MaxPacketLength];
            _ = request.WriteAnswer(answer, request.Refusal, secret);
        }
    }

    /// <summary>Splits an input into packets, each preceded by its length byte.</summary>
    private static IEnumerable<byte[]> Packets(byte[] data)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            var length = Math.Min(data[offset], data.Length - offset - 1);
            yield return data.AsSpan(offset + 1, length).ToArray();
            offset += 1 + length;
        }
    }

    private static void Fill(Span<byte> destination) => destination.Fill(0x5A);

    /// <summary>
    /// The responder with the most routes and DNS servers there can be, so every option the reply can hold is
    /// written. Its own class, so it is made on the first input, not in Program's static constructor: that runs
    /// before SharpFuzz has mapped AFL's coverage memory, and instrumented code run then faults in every target.
    /// </summary>
    private static class DhcpTarget
    {
        public static readonly DhcpInformResponder Responder = new(IPAddress.Parse("192.168.100.1"),
            Enumerable.Range(0, DhcpInformResponder.MaxRoutes).Select(i => new IPNetwork(new IPAddress([10, (byte)i, 0, 0]), 16)).ToList(),
            [IPAddress.Parse("192.0.2.53"), IPAddress.Parse("192.0.2.54")]);

        public static readonly byte[] Reply = new byte[DhcpInformResponder.MaxReplyLength];
    }

    private static void Dhcp(byte[] data)
    {
        var length = DhcpTarget.Responder.TryAnswer(data, DhcpTarget.Reply);
        if (length is < 0 or > DhcpInformResponder.MaxReplyLength)
        {
            throw new InvalidOperationException($"reply length {length} outside 0..{DhcpInformResponder.MaxReplyLength}");
        }
    }

    private static void PptpControl(byte[] data) => _ = PptpControlCodec.TryDecode(data, out _);

    private static void PptpStream(byte[] data)
    {
        var reassembler = new PptpStreamReassembler();
        foreach (var piece in Packets(data))
        {
            ReadOnlySpan<byte> input = piece;
            while (reassembler.TryReadFrame(ref input, out var frame) == PptpFramingStatus.Frame)
            {
                _ = PptpControlCodec.TryDecode(frame, out _);
            }
        }
    }

    private static void Gre(byte[] data)
    {
        foreach (var datagram in Packets(data))
        {
            _ = GreCodec.TryDecode(datagram, out _, out _);
        }
    }

    private static void PppFrames(byte[] data)
    {
        if (PppFrame.TryDecode(data, out _, out var payload))
        {
            _ = PppControlPacket.TryParse(payload, out _, out _, out _);
        }
        _ = PppFrame.TryDecodeHeader(data, out _, out _);
    }

    private sealed class NullOutput : IPppControlOutput, IAuthOutput
    {
        public int Sent { get; private set; }

        public void SendControl(PppProtocol protocol, ReadOnlySpan<byte> packet) => Sent++;

        public void Send(PppProtocol protocol, ReadOnlySpan<byte> packet) => Sent++;
    }

    /// <summary>Opens the protocol (Up, Open: it sends its Configure-Request) and feeds it every packet.</summary>
    private static void Control(byte[] data, Func<TimeProvider, IPppControlOutput, ControlProtocol> create)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var protocol = create(time, new NullOutput());
        protocol.Automaton.Up();
        protocol.Automaton.Open();
        foreach (var packet in Packets(data))
        {
            protocol.Receive(packet);
        }
    }

    /// <summary>Both sides of one method: the authenticator knows "alice", the peer logs in as her.</summary>
    private static void Auth(byte[] data, AuthMethod method)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var environment = new AuthEnvironment { Time = time, Random = b => b.Fill(0x11) };
        var users = new InMemoryUserStore();
        users.Set("alice", UserSecret.FromPassword("TopSecretPassword1"));
        using var authenticator = AuthProtocolFactory.Create(method, AuthRole.Authenticator, environment, users: users);
        using var peer = AuthProtocolFactory.Create(method, AuthRole.Peer, environment,
            credentials: PeerCredentials.FromPassword("alice", "TopSecretPassword1"));
        var output = new NullOutput();
        authenticator.Start(output);
        peer.Start(output);
        var index = 0;
        foreach (var packet in Packets(data))
        {
            ((index++ & 1) == 0 ? authenticator : peer).Receive(packet);
        }
    }

    private static void Mppe(byte[] data)
    {
        if (data.Length == 0)
        {
            return;
        }
        var strength = (data[0] & 3) switch
        {
            0 => MppeKeyStrength.Bits40,
            1 => MppeKeyStrength.Bits56,
            _ => MppeKeyStrength.Bits128,
        };
        var key = new byte[16];
        key.AsSpan().Fill(0x42);
        using var decryptor = new MppeDecryptor(key, strength, stateless: (data[0] & 4) != 0);
        foreach (var packet in Packets(data[1..]))
        {
            _ = decryptor.Decrypt(packet);
        }
    }

    private static void Pptpd(byte[] data)
    {
        // Three files separated by NUL bytes: pptpd.conf, options, chap-secrets.
        var parts = System.Text.Encoding.UTF8.GetString(data).Split('\0');
        _ = PptpdImporter.Import(parts.ElementAtOrDefault(0), parts.ElementAtOrDefault(1), parts.ElementAtOrDefault(2), "fuzz");
    }
}
