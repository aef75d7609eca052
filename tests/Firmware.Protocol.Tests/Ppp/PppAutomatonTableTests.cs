using Firmware.Protocol.Ppp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Ppp;

public sealed class PppAutomatonTableTests
{
    // RFC 1661 section 4.1, typed in from the RFC independently of the production table. Rows are events,
    // columns the states 0..9; "-" = cannot occur (ignored, no change). Restart/passive options not used.
    private static readonly string[] States = ["Initial", "Starting", "Closed", "Stopped", "Closing", "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened"];

    private static readonly Dictionary<string, string[]> Rfc = new()
    {
        ["Up"] = ["2", "irc,scr/6", "-", "-", "-", "-", "-", "-", "-", "-"],
        ["Down"] = ["-", "-", "0", "tls/1", "0", "1", "1", "1", "1", "tld/1"],
        ["Open"] = ["tls/1", "1", "irc,scr/6", "3", "5", "5", "6", "7", "8", "9"],
        ["Close"] = ["0", "tlf/0", "2", "2", "4", "4", "irc,str/4", "irc,str/4", "irc,str/4", "tld,irc,str/4"],
        ["TO+"] = ["-", "-", "-", "-", "str/4", "str/5", "scr/6", "scr/6", "scr/8", "-"],
        ["TO-"] = ["-", "-", "-", "-", "tlf/2", "tlf/3", "tlf/3", "tlf/3", "tlf/3", "-"],
        ["RCR+"] = ["-", "-", "sta/2", "irc,scr,sca/8", "4", "5", "sca/8", "sca,tlu/9", "sca/8", "tld,scr,sca/8"],
        ["RCR-"] = ["-", "-", "sta/2", "irc,scr,scn/6", "4", "5", "scn/6", "scn/7", "scn/6", "tld,scr,scn/6"],
        ["RCA"] = ["-", "-", "sta/2", "sta/3", "4", "5", "irc/7", "scr/6", "irc,tlu/9", "tld,scr/6"],
        ["RCN"] = ["-", "-", "sta/2", "sta/3", "4", "5", "irc,scr/6", "scr/6", "irc,scr/8", "tld,scr/6"],
        ["RTR"] = ["-", "-", "sta/2", "sta/3", "sta/4", "sta/5", "sta/6", "sta/6", "sta/6", "tld,zrc,sta/5"],
        ["RTA"] = ["-", "-", "2", "3", "tlf/2", "tlf/3", "6", "6", "8", "tld,scr/6"],
        ["RUC"] = ["-", "-", "scj/2", "scj/3", "scj/4", "scj/5", "scj/6", "scj/7", "scj/8", "scj/9"],
        ["RXJ+"] = ["-", "-", "2", "3", "4", "5", "6", "6", "8", "9"],
        ["RXJ-"] = ["-", "-", "tlf/2", "tlf/3", "tlf/2", "tlf/3", "tlf/3", "tlf/3", "tlf/3", "tld,irc,str/5"],
        ["RXR"] = ["-", "-", "2", "3", "4", "5", "6", "7", "8", "ser/9"],
    };

    public static IEnumerable<object[]> Cells()
    {
        foreach (var (e, row) in Rfc)
        {
            for (var s = 0; s < 10; s++)
            {
                yield return [e, States[s], row[s]];
            }
        }
    }

    private sealed class NullOutput : IPppControlOutput
    {
        public int Sent { get; private set; }
        public void SendControl(PppProtocol protocol, ReadOnlySpan<byte> packet) => Sent++;
    }

    private sealed class BareProtocol(IPppControlOutput output)
        : ControlProtocol((PppProtocol)0x8001, "TEST", new PppAutomatonSettings(), new FakeTimeProvider(), output, null)
    {
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void Each_state_and_event_follows_RFC_1661(string eventName, string stateName, string expected)
    {
        using var protocol = new BareProtocol(new NullOutput());
        var automaton = protocol.Automaton;
        var start = (PppState)Array.IndexOf(States, stateName);
        automaton.ForceStateForTest(start);
        var actions = new List<string>();
        automaton.ActionExecuted += (_, a) => actions.Add(a.ToString().ToLowerInvariant());

        var echo = new byte[] { 9, 1, 0, 8, 0, 0, 0, 0 };
        switch (eventName)
        {
            case "Up": automaton.Up(); break;
            case "Down": automaton.Down(); break;
            case "Open": automaton.Open(); break;
            case "Close": automaton.Close("test"); break;
            case "TO+": automaton.TimeoutPlus(); break;
            case "TO-": automaton.TimeoutMinus(); break;
            case "RCR+": automaton.RcrPlus(7); break;
            case "RCR-": automaton.RcrMinus(7); break;
            case "RCA": automaton.Rca(); break;
            case "RCN": automaton.Rcn(); break;
            case "RTR": automaton.Rtr(7); break;
            case "RTA": automaton.Rta(); break;
            case "RUC": automaton.Ruc(new byte[] { 99, 1, 0, 4 }); break;
            case "RXJ+": automaton.RxjPlus(); break;
            case "RXJ-": automaton.RxjMinus("test"); break;
            case "RXR": automaton.Rxr(echo); break;
            default: throw new InvalidOperationException(eventName);
        }

        if (expected == "-")
        {
            Assert.Equal(start, automaton.State);
            Assert.Empty(actions);
            return;
        }

        var parts = expected.Split('/');
        var expectedActions = parts.Length == 2 ? parts[0].Split(',') : [];
        var expectedState = (PppState)int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expectedState, automaton.State);
        Assert.Equal(expectedActions, actions);
    }

    [Fact]
    public void Restart_counter_gives_Max_Configure_requests_then_TO_minus()
    {
        var output = new NullOutput();
        var time = new FakeTimeProvider();
        using var protocol = new TimedProtocol(output, time);
        var finished = 0;
        protocol.Automaton.LayerFinished += _ => finished++;

        protocol.Automaton.Open();
        protocol.Automaton.Up();
        Assert.Equal(PppState.RequestSent, protocol.State);
        for (var i = 0; i < 40; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(10, output.Sent);
        Assert.Equal(PppState.Stopped, protocol.State);
        Assert.Equal(1, finished);
        Assert.Contains("10 Configure-Requests", protocol.Automaton.LastReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Close_sends_Max_Terminate_requests_then_finishes()
    {
        var output = new NullOutput();
        var time = new FakeTimeProvider();
        using var protocol = new TimedProtocol(output, time);
        protocol.Automaton.Open();
        protocol.Automaton.Up();
        var before = output.Sent;

        protocol.Automaton.Close("bye");
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(PppState.Closing, protocol.State);
        time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(PppState.Closed, protocol.State);
        Assert.Equal(2, output.Sent - before);
    }

    private sealed class TimedProtocol(IPppControlOutput output, TimeProvider time)
        : ControlProtocol((PppProtocol)0x8001, "TEST", new PppAutomatonSettings(), time, output, null)
    {
    }
}
