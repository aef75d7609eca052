using System.Net;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Server;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Server;

/// <summary>
/// The dynamic authorization adapter on a fake session directory: which sessions a request reaches, that a
/// retransmission is answered again but not acted on twice, the rate bound and the counters. Datagrams go straight
/// to <see cref="DynamicAuthorizationServer.Handle"/>; the socket is bound to a free loopback port and idle.
/// </summary>
public sealed class RadiusDynamicAuthorizationServerTests : IDisposable
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.10");
    private static readonly byte[] Secret = "coa-secret"u8.ToArray();
    private readonly FakeTimeProvider _time = new();
    private readonly FakeDirectory _directory = new();
    private readonly DynamicAuthorizationServer _server;
    private byte _identifier;

    public RadiusDynamicAuthorizationServerTests()
    {
        var options = new DynamicAuthorizationOptions(true, IPAddress.Loopback, 0,
            ValueList.Of(new DynamicAuthorizationClientOptions(Client, ConfigSecret.FromPassword("coa-secret"))));
        _server = new DynamicAuthorizationServer(options, null, "pptp-gateway", _directory, _time, NullLogger.Instance);
        _directory.Sessions.AddRange(
        [
            new("s1", "alice", IPAddress.Parse("10.0.0.5"), "198.51.100.7"),
            new("s2", "alice", IPAddress.Parse("10.0.0.6"), "198.51.100.8"),
            new("s3", "bob", IPAddress.Parse("10.0.0.7"), "198.51.100.7"),
        ]);
    }

    public void Dispose() => _server.Dispose();

    private sealed class FakeDirectory : IRadiusSessionDirectory
    {
        public List<RadiusSessionView> Sessions { get; } = [];
        public List<(string[] Ids, string Reason)> Disconnects { get; } = [];
        public List<(string[] Ids, TimeSpan? Session, TimeSpan? Idle)> Changes { get; } = [];
        public bool Gone { get; set; }

        public IReadOnlyList<RadiusSessionView> LoggedInSessions() => Sessions;

        public int Disconnect(IReadOnlyCollection<string> acctSessionIds, string reason)
        {
            Disconnects.Add(([.. acctSessionIds], reason));
            return Gone ? 0 : acctSessionIds.Count;
        }

        public int ChangeLimits(IReadOnlyCollection<string> acctSessionIds, TimeSpan? sessionTimeout, TimeSpan? idleTimeout)
        {
            Changes.Add(([.. acctSessionIds], sessionTimeout, idleTimeout));
            return acctSessionIds.Count;
        }
    }

    private delegate void Attributes(ref RadiusPacketWriter writer);

    private byte[] Request(RadiusCode code, Attributes attributes)
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var writer = new RadiusPacketWriter(buffer, code, _identifier++, default);
        attributes(ref writer);
        var length = writer.Finish();
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), Secret));
        return buffer[..length];
    }

    private static (RadiusCode Code, uint? Cause) Answer(byte[]? answer)
    {
        Assert.NotNull(answer);
        Assert.True(RadiusPacket.TryParse(answer, out var packet, out _));
        uint? cause = packet.TryGetAttribute(RadiusAttributeType.ErrorCause, out var value) ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(value) : null;
        return (packet.Code, cause);
    }

    private static void User(ref RadiusPacketWriter w, string name) => w.Add(RadiusAttributeType.UserName, System.Text.Encoding.UTF8.GetBytes(name));

    [Fact]
    public void A_disconnect_reaches_every_session_it_names_and_says_who_asked()
    {
        var answer = _server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => User(ref w, "alice")));

        Assert.Equal((RadiusCode.DisconnectAck, (uint?)null), Answer(answer));
        var (ids, reason) = Assert.Single(_directory.Disconnects);
        Assert.Equal(["s1", "s2"], ids);
        Assert.Equal("disconnected by RADIUS (192.0.2.10)", reason);
        Assert.Equal((1, 1, 0, 2), (_server.Counters.Requests, _server.Counters.Acks, _server.Counters.Naks, _server.Counters.SessionsClosed));
    }

    [Fact]
    public void Calling_station_and_user_together_narrow_the_choice()
    {
        var answer = _server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) =>
        {
            w.Add(RadiusAttributeType.CallingStationId, "198.51.100.7"u8);
            User(ref w, "alice");
        }));

        // alice has two sessions and 198.51.100.7 two (one of them bob's): only one is both.
        Assert.Equal(RadiusCode.DisconnectAck, Answer(answer).Code);
        Assert.Equal(["s1"], Assert.Single(_directory.Disconnects).Ids);
    }

    [Fact]
    public void A_retransmission_gets_the_same_answer_and_is_not_acted_on_twice_for_30_seconds()
    {
        var request = Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => User(ref w, "bob"));

        var first = _server.Handle(Client, request);
        _time.Advance(TimeSpan.FromSeconds(5));
        var again = _server.Handle(Client, request);

        Assert.Equal(first, again);
        Assert.Single(_directory.Disconnects);
        Assert.Equal((1, 1), (_server.Counters.Requests, _server.Counters.Duplicates));

        _time.Advance(TimeSpan.FromSeconds(30));
        _ = _server.Handle(Client, request);
        Assert.Equal(2, _directory.Disconnects.Count);
    }

    [Fact]
    public void A_session_that_ended_meanwhile_is_a_nak_503()
    {
        _directory.Gone = true;

        var answer = _server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => User(ref w, "bob")));

        Assert.Equal((RadiusCode.DisconnectNak, (uint?)503), Answer(answer));
        Assert.Equal(0, _server.Counters.SessionsClosed);
    }

    [Fact]
    public void Nas_identification_is_checked_against_the_configured_identity_and_the_listen_address()
    {
        var wrongName = _server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) =>
        {
            w.Add(RadiusAttributeType.NasIdentifier, "another-nas"u8);
            User(ref w, "bob");
        }));
        // No nasIpAddress configured: the listen address (127.0.0.1 here) is ours.
        var ourAddress = _server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) =>
        {
            w.Add(RadiusAttributeType.NasIpAddress, [127, 0, 0, 1]);
            User(ref w, "bob");
        }));

        Assert.Equal((RadiusCode.DisconnectNak, (uint?)403), Answer(wrongName));
        Assert.Equal(RadiusCode.DisconnectAck, Answer(ourAddress).Code);
        Assert.Single(_directory.Disconnects);
    }

    [Fact]
    public void A_coa_passes_its_timeouts_and_a_zero_removes_one()
    {
        var answer = _server.Handle(Client, Request(RadiusCode.CoaRequest, (ref RadiusPacketWriter w) =>
        {
            User(ref w, "bob");
            w.AddUInt32(RadiusAttributeType.SessionTimeout, 600);
            w.AddUInt32(RadiusAttributeType.IdleTimeout, 0);
        }));

        Assert.Equal(RadiusCode.CoaAck, Answer(answer).Code);
        var (ids, session, idle) = Assert.Single(_directory.Changes);
        Assert.Equal(["s3"], ids);
        Assert.Equal((TimeSpan.FromSeconds(600), TimeSpan.Zero), (session, idle));
        Assert.Equal(1, _server.Counters.SessionsChanged);
    }

    [Fact]
    public void Unknown_sources_bad_secrets_and_other_codes_get_no_answer_and_are_counted()
    {
        var request = Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => User(ref w, "bob"));
        var forged = (byte[])request.Clone();
        forged[^1] ^= 1;
        var accounting = (byte[])request.Clone();
        accounting[0] = (byte)RadiusCode.AccountingRequest;

        Assert.Null(_server.Handle(IPAddress.Parse("192.0.2.11"), request));
        Assert.Null(_server.Handle(Client, forged));
        Assert.Null(_server.Handle(Client, accounting));
        Assert.Null(_server.Handle(Client, request.AsSpan(0, 19)));

        var counters = _server.Counters;
        Assert.Equal((1, 1, 2, 0), (counters.UnknownClients, counters.BadAuthenticators, counters.Malformed, counters.Requests));
        Assert.Empty(_directory.Disconnects);
    }

    [Fact]
    public void At_most_20_datagrams_a_second_are_looked_at()
    {
        for (var i = 0; i < DynamicAuthorizationServer.MaxRequestsPerSecond; i++)
        {
            Assert.NotNull(_server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => User(ref w, "nobody"))));
        }
        Assert.Null(_server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => User(ref w, "nobody"))));
        Assert.Equal(1, _server.Counters.RateLimited);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(_server.Handle(Client, Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => User(ref w, "nobody"))));
    }
}
