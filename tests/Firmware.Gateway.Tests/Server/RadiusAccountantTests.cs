using System.Buffers.Binary;
using System.Net;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Server;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Server;

/// <summary>
/// The accountant on fake time with a fake transport that holds every request until the test answers it (a
/// server's address) or lets it go unanswered (null): order per session, retries with a growing Acct-Delay-Time,
/// Interim-Updates replaced while they wait, and the bounds.
/// </summary>
public sealed class RadiusAccountantTests
{
    private static readonly IPEndPoint Server = new(IPAddress.Loopback, 1813);

    private sealed class FakeTransport : IAccountingTransport
    {
        public ReadOnlyMemory<byte> NasIpAddress => Array.Empty<byte>();

        public ReadOnlyMemory<byte> NasIdentifier => "gw"u8.ToArray();

        public List<(RadiusRequestWriter Write, Action<IPEndPoint?> Done)> Outstanding { get; } = [];

        public int Sends { get; private set; }

        public IDisposable Account(string what, RadiusRequestWriter write, Action<IPEndPoint?> done)
        {
            Sends++;
            Outstanding.Add((write, done));
            return new Handle();
        }

        /// <summary>Writes the oldest outstanding request and parses it.</summary>
        public RadiusPacket Peek(int index = 0)
        {
            var buffer = new byte[RadiusWire.MaxPacketLength];
            var length = Outstanding[index].Write(buffer, 1, default, "s"u8);
            Assert.True(RadiusPacket.TryParse(buffer.AsSpan(0, length), out var packet, out _));
            return packet;
        }

        public void Answer(IPEndPoint? server, int index = 0)
        {
            var (_, done) = Outstanding[index];
            Outstanding.RemoveAt(index);
            done(server);
        }

        private sealed class Handle : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }

    private sealed class Harness
    {
        public Harness(TimeSpan? interim = null) =>
            Accountant = new RadiusAccountant(Transport, new RadiusAccountingOptions(interim), Time, NullLogger.Instance);

        public FakeTimeProvider Time { get; } = new();

        public FakeTransport Transport { get; } = new();

        public RadiusAccountant Accountant { get; }

        public long Octets { get; set; }

        public RadiusAccountant.Session Begin(string id, TimeSpan? fromServer = null)
        {
            var started = Time.GetTimestamp();
            return Accountant.Begin(id, type => new AccountingRecord
            {
                StatusType = type,
                SessionId = id,
                UserName = "alice",
                EventTimestamp = Time.GetTimestamp(),
                SessionSeconds = (uint)Time.GetElapsedTime(started).TotalSeconds,
                InputOctets = (ulong)Octets,
            }, fromServer);
        }
    }

    private static uint UInt32(RadiusPacket packet, RadiusAttributeType type)
    {
        Assert.True(packet.TryGetAttribute(type, out var value), $"{type} present");
        return BinaryPrimitives.ReadUInt32BigEndian(value);
    }

    private static AcctStatusType Status(RadiusPacket packet) => (AcctStatusType)UInt32(packet, RadiusAttributeType.AcctStatusType);

    [Fact]
    public void A_sessions_records_go_one_at_a_time_in_order_start_interims_stop()
    {
        var h = new Harness(TimeSpan.FromSeconds(60));
        var session = h.Begin("S1");
        Assert.Equal(AcctStatusType.Start, Status(h.Transport.Peek()));

        h.Time.Advance(TimeSpan.FromSeconds(60));
        h.Octets = 1000;
        h.Accountant.End(session, AcctTerminateCause.UserRequest);
        // The Interim-Update and the Stop wait behind the unanswered Start.
        Assert.Single(h.Transport.Outstanding);

        h.Transport.Answer(Server);
        var interim = h.Transport.Peek();
        Assert.Equal(AcctStatusType.InterimUpdate, Status(interim));
        Assert.Equal(60u, UInt32(interim, RadiusAttributeType.AcctSessionTime));
        h.Transport.Answer(Server);
        var stop = h.Transport.Peek();
        Assert.Equal(AcctStatusType.Stop, Status(stop));
        Assert.Equal(1000u, UInt32(stop, RadiusAttributeType.AcctInputOctets));
        Assert.Equal((uint)AcctTerminateCause.UserRequest, UInt32(stop, RadiusAttributeType.AcctTerminateCause));
        h.Transport.Answer(Server);

        // Ended: its Interim timer is gone.
        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(h.Transport.Outstanding);
        Assert.Equal(new AccountingCounters(3, 3, 0, 0, 0), h.Accountant.Counters);
    }

    [Fact]
    public void The_servers_interim_interval_wins_over_the_configured_one_and_none_means_none()
    {
        var h = new Harness(interim: null);
        h.Begin("quiet");
        h.Transport.Answer(Server);
        h.Time.Advance(TimeSpan.FromHours(1));
        Assert.Empty(h.Transport.Outstanding);

        h.Begin("asked", fromServer: TimeSpan.FromSeconds(120));
        h.Transport.Answer(Server);
        h.Time.Advance(TimeSpan.FromSeconds(119));
        Assert.Empty(h.Transport.Outstanding);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(AcctStatusType.InterimUpdate, Status(h.Transport.Peek()));
    }

    [Fact]
    public void A_record_no_server_took_is_sent_again_later_with_its_delay_and_nothing_is_lost()
    {
        var h = new Harness();
        var session = h.Begin("S1");
        h.Transport.Answer(null);
        Assert.Empty(h.Transport.Outstanding);
        Assert.Equal(1, h.Accountant.Counters.Pending);

        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Accountant.End(session, AcctTerminateCause.LostCarrier);
        // The Stop waits behind the Start: a server must never see a Stop before its Start.
        Assert.Empty(h.Transport.Outstanding);

        h.Time.Advance(RadiusAccountant.RetryInterval - TimeSpan.FromSeconds(10));
        var start = h.Transport.Peek();
        Assert.Equal(AcctStatusType.Start, Status(start));
        Assert.Equal((uint)RadiusAccountant.RetryInterval.TotalSeconds, UInt32(start, RadiusAttributeType.AcctDelayTime));
        h.Transport.Answer(Server);
        var stop = h.Transport.Peek();
        Assert.Equal(AcctStatusType.Stop, Status(stop));
        Assert.Equal((uint)RadiusAccountant.RetryInterval.TotalSeconds - 10, UInt32(stop, RadiusAttributeType.AcctDelayTime));
        h.Transport.Answer(Server);
        Assert.Equal(new AccountingCounters(2, 2, 1, 0, 0), h.Accountant.Counters);
    }

    [Fact]
    public void While_a_session_waits_for_a_server_a_newer_interim_update_replaces_the_queued_one()
    {
        var h = new Harness(TimeSpan.FromSeconds(60));
        h.Begin("S1");
        h.Transport.Answer(null);
        for (var minute = 1; minute <= 5; minute++)
        {
            h.Octets = minute * 100;
            h.Time.Advance(TimeSpan.FromSeconds(60));
        }
        // The retry (every 30 s) sent the Start again meanwhile; leave it unanswered each time.
        while (h.Transport.Outstanding.Count > 0)
        {
            h.Transport.Answer(null);
        }
        h.Time.Advance(RadiusAccountant.RetryInterval);
        Assert.Equal(AcctStatusType.Start, Status(h.Transport.Peek()));
        h.Transport.Answer(Server);

        var interim = h.Transport.Peek();
        Assert.Equal(AcctStatusType.InterimUpdate, Status(interim));
        Assert.True(UInt32(interim, RadiusAttributeType.AcctInputOctets) >= 500, "the newest counters");
        h.Transport.Answer(Server);
        Assert.Empty(h.Transport.Outstanding);
        Assert.Equal(0, h.Accountant.Counters.Pending);
    }

    [Fact]
    public void A_record_no_server_took_for_a_day_is_dropped_and_the_next_one_goes()
    {
        var h = new Harness();
        var session = h.Begin("S1");
        h.Transport.Answer(null);
        h.Accountant.End(session, AcctTerminateCause.AdminReset);
        for (var elapsed = TimeSpan.Zero; elapsed < RadiusAccountant.MaxRecordAge; elapsed += RadiusAccountant.RetryInterval)
        {
            h.Time.Advance(RadiusAccountant.RetryInterval);
            Assert.Equal(AcctStatusType.Start, Status(h.Transport.Peek()));
            h.Transport.Answer(null);
        }
        // The Start aged out; the Stop (just as old) went straight after it and ages out on its next failure.
        Assert.Equal(AcctStatusType.Stop, Status(h.Transport.Peek()));
        Assert.Equal(1, h.Accountant.Counters.Dropped);
        h.Transport.Answer(Server);
        Assert.Equal(0, h.Accountant.Counters.Pending);
    }

    [Fact]
    public void The_queue_is_bounded_and_interim_updates_go_first()
    {
        var h = new Harness(TimeSpan.FromSeconds(60));
        var sessions = new List<RadiusAccountant.Session>();
        for (var i = 0; i < RadiusAccountant.MaxPendingRecords * 3 / 4; i++)
        {
            sessions.Add(h.Begin($"S{i}"));
        }
        // Every Start is in flight and unanswered: three quarters full. Interim-Updates are refused from here.
        h.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(RadiusAccountant.MaxPendingRecords * 3 / 4, h.Accountant.Counters.Pending);
        Assert.Equal(sessions.Count, h.Accountant.Counters.Dropped);

        // Stops are still taken, up to the whole bound.
        foreach (var session in sessions)
        {
            h.Accountant.End(session, AcctTerminateCause.AdminReboot);
        }
        Assert.Equal(RadiusAccountant.MaxPendingRecords, h.Accountant.Counters.Pending);
        Assert.Equal(sessions.Count + (sessions.Count * 2 - RadiusAccountant.MaxPendingRecords), h.Accountant.Counters.Dropped);
    }
}
