using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Auth;

/// <summary>
/// An authenticator and a peer back to back in memory on a fake clock. Packets queue up and are delivered
/// by <see cref="Pump"/>; a filter can drop or rewrite any of them.
/// </summary>
internal sealed class AuthLink : IDisposable
{
    private readonly Queue<(IAuthProtocol To, byte[] Packet)> _inFlight = new();

    public AuthLink(AuthMethod method, IUserStore users, PeerCredentials credentials, AuthOptions? options = null, AuthOptions? peerOptions = null, int seed = 1)
        : this(method, new UserStoreVerifier(users), credentials, options, peerOptions, seed)
    {
    }

    /// <param name="dispatch">Where the authenticator's timers and late verdicts are posted; null runs them inline.</param>
    public AuthLink(AuthMethod method, ICredentialVerifier verifier, PeerCredentials credentials, AuthOptions? options = null, AuthOptions? peerOptions = null, int seed = 1, Action<Action>? dispatch = null)
    {
        var random = new Random(seed);
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var environment = new AuthEnvironment { Time = Time, Random = random.NextBytes, Options = options ?? new AuthOptions(), Dispatch = dispatch };
        var peerEnvironment = new AuthEnvironment { Time = Time, Random = random.NextBytes, Options = peerOptions ?? options ?? new AuthOptions() };
        Authenticator = AuthProtocolFactory.Create(method, AuthRole.Authenticator, environment, verifier: verifier);
        Peer = AuthProtocolFactory.Create(method, AuthRole.Peer, peerEnvironment, credentials: credentials);
        ToPeer = new Output(this, Peer, "authenticator");
        ToAuthenticator = new Output(this, Authenticator, "peer");
        Authenticator.Completed += p => AuthenticatorCompletions.Add(p.Status);
        Peer.Completed += p => PeerCompletions.Add(p.Status);
    }

    public FakeTimeProvider Time { get; }

    public IAuthProtocol Authenticator { get; }

    public IAuthProtocol Peer { get; }

    public Output ToPeer { get; }

    public Output ToAuthenticator { get; }

    public List<AuthStatus> AuthenticatorCompletions { get; } = [];

    public List<AuthStatus> PeerCompletions { get; } = [];

    /// <summary>Sees every packet (sender, packet); returns the packet to deliver, or null to lose it.</summary>
    public Func<string, byte[], byte[]?> Filter { get; set; } = (_, p) => p;

    /// <summary>Every packet sent, by sender, in order.</summary>
    public List<(string From, byte[] Packet)> Sent { get; } = [];

    public void Start()
    {
        Peer.Start(ToAuthenticator);
        Authenticator.Start(ToPeer);
        Pump();
    }

    public void Pump()
    {
        while (_inFlight.TryDequeue(out var item))
        {
            item.To.Receive(item.Packet);
        }
    }

    public void Advance(TimeSpan by)
    {
        // Step a second at a time so timers fire in order and replies are delivered between them.
        var steps = (int)Math.Ceiling(by.TotalSeconds);
        for (var i = 0; i < steps; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            Pump();
        }
    }

    public void Dispose()
    {
        Authenticator.Dispose();
        Peer.Dispose();
    }

    internal sealed class Output(AuthLink link, IAuthProtocol to, string from) : IAuthOutput
    {
        public void Send(PppProtocol protocol, ReadOnlySpan<byte> packet)
        {
            Assert.Equal(to.Protocol, protocol);
            var copy = packet.ToArray();
            link.Sent.Add((from, copy));
            var delivered = link.Filter(from, copy);
            if (delivered is not null)
            {
                link._inFlight.Enqueue((to, delivered));
            }
        }
    }
}
