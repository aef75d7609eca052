using Firmware.Gateway.Cli;
using Firmware.Gateway.Status;

namespace Firmware.Gateway.Tests.Cli;

public sealed class StatusFormatTests
{
    [Fact]
    public void The_text_status_has_a_radius_line_only_when_radius_is_configured()
    {
        var counters = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["radiusRequests"] = 12,
            ["radiusAccepts"] = 9,
            ["radiusRejects"] = 2,
            ["radiusNoAnswer"] = 1,
            ["radiusFailovers"] = 3,
            ["radiusRefusedAnswers"] = 4,
            ["radiusOutstanding"] = 0,
        };
        var with = StatusCommand.Format(new GatewayStatus { Version = "test", StartedAt = DateTimeOffset.UnixEpoch, Counters = counters }).Split('\n');
        var without = StatusCommand.Format(new GatewayStatus { Version = "test", StartedAt = DateTimeOffset.UnixEpoch }).Split('\n');

        Assert.Contains("radius: 12 logins asked, 9 accepted, 2 rejected, 1 unanswered, 3 failovers, 4 answers refused, 0 waiting", with);
        Assert.DoesNotContain(without, l => l.StartsWith("radius:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_text_status_has_an_accounting_line_only_when_accounting_is_on()
    {
        var counters = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["radiusAccountingSent"] = 7,
            ["radiusAccountingAnswered"] = 5,
            ["radiusAccountingRetried"] = 3,
            ["radiusAccountingPending"] = 2,
            ["radiusAccountingDropped"] = 1,
        };
        var with = StatusCommand.Format(new GatewayStatus { Version = "test", StartedAt = DateTimeOffset.UnixEpoch, Counters = counters }).Split('\n');
        var without = StatusCommand.Format(new GatewayStatus { Version = "test", StartedAt = DateTimeOffset.UnixEpoch }).Split('\n');

        Assert.Contains("radius accounting: 7 records, 5 taken, 2 waiting, 3 retries, 1 dropped", with);
        Assert.DoesNotContain(without, l => l.StartsWith("radius accounting:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_text_status_has_a_disconnect_and_coa_line_only_when_that_is_on()
    {
        var counters = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["radiusDynAuthRequests"] = 5,
            ["radiusDynAuthAcks"] = 3,
            ["radiusDynAuthNaks"] = 2,
            ["radiusDisconnects"] = 2,
            ["radiusCoaChanges"] = 1,
            ["radiusDynAuthDuplicates"] = 4,
            ["radiusDynAuthUnknownClients"] = 6,
            ["radiusDynAuthBadAuthenticators"] = 7,
            ["radiusDynAuthMalformed"] = 8,
            ["radiusDynAuthRateLimited"] = 9,
        };
        var with = StatusCommand.Format(new GatewayStatus { Version = "test", StartedAt = DateTimeOffset.UnixEpoch, Counters = counters }).Split('\n');
        var without = StatusCommand.Format(new GatewayStatus { Version = "test", StartedAt = DateTimeOffset.UnixEpoch }).Split('\n');

        Assert.Contains("radius disconnect/coa: 5 requests, 3 ACKed, 2 NAKed, 2 sessions closed, 1 changed, 4 retransmissions, dropped: 6 unknown client, 7 bad authenticator, 8 malformed, 9 over the rate", with);
        Assert.DoesNotContain(without, l => l.StartsWith("radius disconnect", StringComparison.Ordinal));
    }

    [Fact]
    public void The_text_status_lists_every_service_wide_drop_above_zero_and_the_data_paths_counters()
    {
        var status = new GatewayStatus
        {
            Version = "test",
            StartedAt = DateTimeOffset.UnixEpoch,
            Counters = new Dictionary<string, long>(StringComparer.Ordinal)
            {
                ["greReceived"] = 1000,
                ["greReceiveBatches"] = 40,
                ["greUnknownSession"] = 3,
                ["greTooShort"] = 2,
                ["greSendFailures"] = 0,
                ["tunRead"] = 900,
                ["tunWritten"] = 950,
                ["tunSuperPacketsRead"] = 20,
                ["tunSuperPacketsWritten"] = 25,
                ["tunOffloadRefused"] = 4,
                ["tunNoSession"] = 7,
                ["bufferPoolCreated"] = 96,
                ["bufferPoolInUse"] = 33,
                ["bufferPoolExhausted"] = 1,
                ["controlConnections"] = 2,
            },
        };

        var lines = StatusCommand.Format(status).Split('\n');

        Assert.Contains("data path: 1000 GRE packets received in 40 reads, TUN 900 read (20 super-packets) / 950 written (25 super-packets), 33 of 96 buffers in use", lines);
        var drops = Assert.Single(lines, l => l.StartsWith("dropped outside any tunnel: ", StringComparison.Ordinal));
        foreach (var expected in new[] { "greUnknownSession 3", "greTooShort 2", "tunNoSession 7", "bufferPoolExhausted 1", "tunOffloadRefused 4" })
        {
            Assert.Contains(expected, drops, StringComparison.Ordinal);
        }
        foreach (var notADrop in new[] { "greReceived", "tunRead", "controlConnections", "greSendFailures", "tunSuperPacketsRead", "tunSuperPacketsWritten" })
        {
            Assert.DoesNotContain(notADrop, drops, StringComparison.Ordinal);
        }
    }
}
