using Firmware.Protocol.Auth;
using Firmware.Protocol.Ccp;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Lcp;
using Firmware.Protocol.Tests.Ppp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Ccp;

/// <summary>Real authentication exchanges (AuthProtocolFactory) for a session.</summary>
internal sealed class RealAuthFactory(AuthEnvironment environment, IUserStore? users, PeerCredentials? credentials) : IPppAuthFactory
{
    public IAuthProtocol Create(AuthMethod method, AuthRole role) =>
        AuthProtocolFactory.Create(method, role, environment, users, credentials);
}

/// <summary>
/// A server and a client PppSession back to back over in-memory queues on one fake clock, with the real
/// MS-CHAP/PAP exchanges and the real CCP/MPPE layer on each side that has a policy.
/// </summary>
internal sealed class MppeLink : IDisposable
{
    public const string UserName = "alice";
    public const string Password = "correct horse";

    public MppeLink(
        MppeNegotiationPolicy? serverPolicy,
        MppeNegotiationPolicy? clientPolicy,
        AuthMethod method = AuthMethod.MsChapV2)
    {
        var users = new InMemoryUserStore();
        users.Set(UserName, UserSecret.FromPassword(Password));
        var credentials = PeerCredentials.FromPassword(UserName, Password);
        var serverAuth = new RealAuthFactory(new AuthEnvironment { Time = Time, Random = new Random(11).NextBytes }, users, null);
        var clientAuth = new RealAuthFactory(new AuthEnvironment { Time = Time, Random = new Random(12).NextBytes }, null, credentials);

        var serverOptions = PppSettings.Server(o => o with { Auth = new AuthPolicy { Demand = [method] } });
        var clientOptions = PppSettings.Client(o => o with { Auth = new AuthPolicy { Accept = [method] } });
        _link = new BackToBack(serverOptions, clientOptions, serverAuth, clientAuth, new TestRandom(1), new TestRandom(2),
            serverPolicy is null ? null : c => ServerLayer = (MppeEncryptionLayer)MppeEncryptionLayer.Factory(serverPolicy, isServer: true)(c),
            clientPolicy is null ? null : c => ClientLayer = (MppeEncryptionLayer)MppeEncryptionLayer.Factory(clientPolicy, isServer: false)(c),
            Time)
        {
            PumpLimit = 1_000_000,
        };
    }

    private readonly BackToBack _link;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public RecordingOutput ServerOut => _link.AOut;
    public RecordingOutput ClientOut => _link.BOut;
    public PppSession Server => _link.A;
    public PppSession Client => _link.B;
    public MppeEncryptionLayer? ServerLayer { get; private set; }
    public MppeEncryptionLayer? ClientLayer { get; private set; }

    /// <summary>Delivers queued frames both ways until both are quiet.</summary>
    public void Pump() => _link.Pump();

    /// <summary>Runs protocol time forward in small steps, pumping frames between steps.</summary>
    public void Run(TimeSpan duration) => _link.Run(duration);

    public void Start()
    {
        Server.Start();
        Client.Start();
        Run(TimeSpan.FromSeconds(2));
    }

    /// <summary>
    /// An IPv4-looking packet (version, header length and total length right: stateful MPPE checks them) whose
    /// other bytes depend on <paramref name="index"/> and the direction.
    /// </summary>
    public static byte[] Packet(int index, bool fromClient, int length = 60)
    {
        var packet = new byte[length];
        var random = new Random(index * 2 + (fromClient ? 1 : 0));
        random.NextBytes(packet);
        packet[0] = 0x45;
        packet[2] = (byte)(length >> 8);
        packet[3] = (byte)length;
        packet[4] = (byte)(index >> 8);
        packet[5] = (byte)index;
        return packet;
    }

    /// <summary>Sends one packet through a session the way the TUN reader does (header room in front).</summary>
    public static bool Send(PppSession session, byte[] packet)
    {
        var room = session.RequiredHeaderRoom;
        var buffer = new byte[room + packet.Length];
        packet.CopyTo(buffer, room);
        return session.TrySendPacket(PppProtocol.Ipv4, buffer, room, packet.Length);
    }

    /// <summary>Takes every frame queued by one side (to deliver them impaired).</summary>
    public static List<byte[]> Drain(RecordingOutput output)
    {
        var frames = new List<byte[]>();
        while (output.Sent.TryDequeue(out var frame))
        {
            frames.Add(frame);
        }

        return frames;
    }

    public void Dispose() => _link.Dispose();
}
