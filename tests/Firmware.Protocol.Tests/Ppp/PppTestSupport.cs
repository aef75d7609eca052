using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Ppp;

/// <summary>Seeded random bytes; optional fixed values first (to force magic/interface-id collisions).</summary>
internal sealed class TestRandom(int seed, params byte[][] firstValues)
{
    private readonly Random _random = new(seed);
    private int _next;

    public void Fill(Span<byte> destination)
    {
        if (_next < firstValues.Length && firstValues[_next].Length == destination.Length)
        {
            firstValues[_next++].CopyTo(destination);
            return;
        }

        _random.NextBytes(destination);
    }
}

/// <summary>
/// Test-only authentication: the authenticator sends a challenge (code 1), the peer answers with its user
/// name (code 2), the authenticator answers Success (3) or Failure (4). Runs under the negotiated method's protocol.
/// </summary>
internal sealed class FakeAuth(AuthMethod method, AuthRole role, string userName, Func<string, bool> accept) : IAuthProtocol
{
    private IAuthOutput? _output;

    public AuthMethod Method => method;
    public PppProtocol Protocol => method == AuthMethod.Pap ? PppProtocol.Pap : PppProtocol.Chap;
    public AuthStatus Status { get; private set; }
    public string? FailureReason { get; private set; }
    public string? UserName { get; private set; }
    public MppeKeyMaterial? KeyMaterial => null;
    public string? Account => Status == AuthStatus.Succeeded && role == AuthRole.Authenticator ? UserName : null;
    public SessionAuthorization Authorization => SessionAuthorization.None;
    public long DroppedPackets { get; private set; }
    public bool Disposed { get; private set; }
    public event Action<IAuthProtocol>? Completed;

    public void Start(IAuthOutput output)
    {
        _output = output;
        Status = AuthStatus.InProgress;
        if (role == AuthRole.Authenticator)
        {
            Send(1, "challenge");
        }
    }

    public void Receive(ReadOnlySpan<byte> packet)
    {
        if (!PppControlPacket.TryParse(packet, out var code, out _, out var data) || Status != AuthStatus.InProgress)
        {
            DroppedPackets++;
            return;
        }

        switch (role, code)
        {
            case (AuthRole.Peer, 1):
                UserName = userName;
                Send(2, userName);
                break;
            case (AuthRole.Authenticator, 2):
                UserName = Encoding.ASCII.GetString(data);
                var ok = accept(UserName);
                Send(ok ? (byte)3 : (byte)4, ok ? "welcome" : "denied");
                Finish(ok, $"authentication failed for user '{UserName}'");
                break;
            case (AuthRole.Peer, 3):
                Finish(true, null);
                break;
            case (AuthRole.Peer, 4):
                Finish(false, $"peer rejected the credentials for user '{userName}'");
                break;
            default:
                DroppedPackets++;
                break;
        }
    }

    private void Finish(bool ok, string? reason)
    {
        Status = ok ? AuthStatus.Succeeded : AuthStatus.Failed;
        FailureReason = ok ? null : reason;
        Completed?.Invoke(this);
    }

    private void Send(byte code, string text)
    {
        var packet = new byte[4 + text.Length];
        PppControlPacket.Write(packet, code, 1, Encoding.ASCII.GetBytes(text));
        _output!.Send(Protocol, packet);
    }

    public void Dispose() => Disposed = true;
}

internal sealed class FakeAuthFactory(string userName, Func<string, bool>? accept = null) : IPppAuthFactory
{
    public List<(AuthMethod Method, AuthRole Role)> Created { get; } = [];

    public IAuthProtocol Create(AuthMethod method, AuthRole role)
    {
        Created.Add((method, role));
        return new FakeAuth(method, role, userName, accept ?? (_ => true));
    }
}

/// <summary>One session's outputs, recorded.</summary>
internal sealed class RecordingOutput : IPppSessionOutput
{
    public Queue<byte[]> Sent { get; } = new();
    public List<byte[]> AllSent { get; } = [];
    public List<(PppProtocol Protocol, byte[] Packet)> Delivered { get; } = [];
    public List<PppSessionEvent> Events { get; } = [];
    public Func<byte[], bool>? DropOutbound { get; set; }

    public void SendFrame(Span<byte> buffer, int frameOffset, int frameLength)
    {
        var frame = buffer.Slice(frameOffset, frameLength).ToArray();
        AllSent.Add(frame);
        if (DropOutbound?.Invoke(frame) != true)
        {
            Sent.Enqueue(frame);
        }
    }

    public void DeliverPacket(PppProtocol protocol, Span<byte> packet) => Delivered.Add((protocol, packet.ToArray()));

    public void OnEvent(PppSessionEvent sessionEvent) => Events.Add(sessionEvent);

    public string? ReasonOf(PppSessionEventKind kind) => Events.LastOrDefault(e => e.Kind == kind)?.Reason;
}

/// <summary>A control protocol's packets, recorded in the list given.</summary>
internal sealed class ListOutput(List<byte[]> sent) : IPppControlOutput
{
    public void SendControl(PppProtocol protocol, ReadOnlySpan<byte> packet) => sent.Add(packet.ToArray());
}

/// <summary>Two sessions back to back over in-memory queues on one fake clock.</summary>
internal sealed class BackToBack : IDisposable
{
    public FakeTimeProvider Time { get; }

    /// <summary>Most frames one <see cref="Pump"/> delivers (long MPPE runs raise it).</summary>
    public int PumpLimit { get; init; } = 10_000;

    public RecordingOutput AOut { get; } = new();
    public RecordingOutput BOut { get; } = new();
    public PppSession A { get; }
    public PppSession B { get; }

    public BackToBack(
        PppSessionOptions a,
        PppSessionOptions b,
        IPppAuthFactory? aAuth = null,
        IPppAuthFactory? bAuth = null,
        TestRandom? aRandom = null,
        TestRandom? bRandom = null,
        Func<PppLayerContext, IPppEncryptionLayer>? aLayer = null,
        Func<PppLayerContext, IPppEncryptionLayer>? bLayer = null,
        FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        A = new PppSession(a, AOut, aAuth ?? new FakeAuthFactory("server"), Time, (aRandom ?? new TestRandom(1)).Fill, null, aLayer);
        B = new PppSession(b, BOut, bAuth ?? new FakeAuthFactory("alice"), Time, (bRandom ?? new TestRandom(2)).Fill, null, bLayer);
    }

    /// <summary>Delivers queued frames both ways until both are quiet (bounded).</summary>
    public void Pump()
    {
        for (var i = 0; i < PumpLimit && (AOut.Sent.Count > 0 || BOut.Sent.Count > 0); i++)
        {
            if (AOut.Sent.TryDequeue(out var toB))
            {
                B.ReceiveFrame(toB);
            }

            if (BOut.Sent.TryDequeue(out var toA))
            {
                A.ReceiveFrame(toA);
            }
        }
    }

    /// <summary>Runs protocol time forward in small steps, pumping frames between steps.</summary>
    public void Run(TimeSpan duration)
    {
        Pump();
        var step = TimeSpan.FromMilliseconds(250);
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += step)
        {
            Time.Advance(step);
            Pump();
        }
    }

    public void StartBoth()
    {
        A.Start();
        B.Start();
        Run(TimeSpan.FromSeconds(1));
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}

internal static class PppSettings
{
    public static PppSessionOptions Server(Func<PppSessionOptions, PppSessionOptions>? tweak = null)
    {
        var options = new PppSessionOptions
        {
            Role = PppSessionRole.Server,
            Ipcp = new Firmware.Protocol.Ppp.Ipcp.IpcpSettings
            {
                LocalAddress = System.Net.IPAddress.Parse("10.0.0.1"),
                PeerAddress = System.Net.IPAddress.Parse("10.0.0.2"),
                PrimaryDns = System.Net.IPAddress.Parse("192.0.2.53"),
                SecondaryDns = System.Net.IPAddress.Parse("192.0.2.54"),
            },
        };
        return tweak is null ? options : tweak(options);
    }

    public static PppSessionOptions Client(Func<PppSessionOptions, PppSessionOptions>? tweak = null)
    {
        var options = new PppSessionOptions
        {
            Role = PppSessionRole.Client,
            Ipcp = new Firmware.Protocol.Ppp.Ipcp.IpcpSettings { RequestDns = true },
        };
        return tweak is null ? options : tweak(options);
    }
}
