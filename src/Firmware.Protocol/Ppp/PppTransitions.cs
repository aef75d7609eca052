namespace Firmware.Protocol.Ppp;

/// <summary>The ten states of RFC 1661 4.2.</summary>
public enum PppState
{
    /// <summary>0: lower layer down, no Open.</summary>
    Initial,
    /// <summary>1: Open, waiting for the lower layer.</summary>
    Starting,
    /// <summary>2: lower layer up, no Open.</summary>
    Closed,
    /// <summary>3: finished or passive, waiting for a peer Configure-Request.</summary>
    Stopped,
    /// <summary>4: Terminate-Request sent after Close.</summary>
    Closing,
    /// <summary>5: Terminate-Request sent, will stay Open.</summary>
    Stopping,
    /// <summary>6: Req-Sent.</summary>
    RequestSent,
    /// <summary>7: Ack-Rcvd.</summary>
    AckReceived,
    /// <summary>8: Ack-Sent.</summary>
    AckSent,
    /// <summary>9: Opened.</summary>
    Opened,
}

/// <summary>The events of RFC 1661 4.3, named as in its table.</summary>
public enum PppEvent
{
    /// <summary>Up: lower layer is Up.</summary>
    Up,
    /// <summary>Down: lower layer is Down.</summary>
    Down,
    /// <summary>Open: administrative Open.</summary>
    Open,
    /// <summary>Close: administrative Close.</summary>
    Close,
    /// <summary>TO+: Timeout with counter &gt; 0.</summary>
    TimeoutPlus,
    /// <summary>TO-: Timeout with counter expired.</summary>
    TimeoutMinus,
    /// <summary>RCR+: Receive-Configure-Request (Good).</summary>
    RcrPlus,
    /// <summary>RCR-: Receive-Configure-Request (Bad).</summary>
    RcrMinus,
    /// <summary>RCA: Receive-Configure-Ack.</summary>
    Rca,
    /// <summary>RCN: Receive-Configure-Nak/Rej.</summary>
    Rcn,
    /// <summary>RTR: Receive-Terminate-Request.</summary>
    Rtr,
    /// <summary>RTA: Receive-Terminate-Ack.</summary>
    Rta,
    /// <summary>RUC: Receive-Unknown-Code.</summary>
    Ruc,
    /// <summary>RXJ+: Receive-Code-Reject (permitted) or Receive-Protocol-Reject.</summary>
    RxjPlus,
    /// <summary>RXJ-: Receive-Code-Reject (catastrophic) or Receive-Protocol-Reject.</summary>
    RxjMinus,
    /// <summary>RXR: Receive-Echo-Request, Receive-Echo-Reply or Receive-Discard-Request.</summary>
    Rxr,
}

/// <summary>The actions of RFC 1661 4.4, named as in its table.</summary>
public enum PppAction
{
    /// <summary>tlu: This-Layer-Up.</summary>
    Tlu,
    /// <summary>tld: This-Layer-Down.</summary>
    Tld,
    /// <summary>tls: This-Layer-Started.</summary>
    Tls,
    /// <summary>tlf: This-Layer-Finished.</summary>
    Tlf,
    /// <summary>irc: Initialize-Restart-Count.</summary>
    Irc,
    /// <summary>zrc: Zero-Restart-Count.</summary>
    Zrc,
    /// <summary>scr: Send-Configure-Request.</summary>
    Scr,
    /// <summary>sca: Send-Configure-Ack.</summary>
    Sca,
    /// <summary>scn: Send-Configure-Nak/Rej.</summary>
    Scn,
    /// <summary>str: Send-Terminate-Request.</summary>
    Str,
    /// <summary>sta: Send-Terminate-Ack.</summary>
    Sta,
    /// <summary>scj: Send-Code-Reject.</summary>
    Scj,
    /// <summary>ser: Send-Echo-Reply.</summary>
    Ser,
}

/// <summary>One cell of the RFC 1661 4.1 state transition table.</summary>
/// <param name="Next">The new state.</param>
/// <param name="Actions">Actions, in the order the table lists them.</param>
public readonly record struct PppTransition(PppState Next, PppAction[] Actions);

/// <summary>
/// RFC 1661 4.1, without the optional restart ("r") and passive ("p") behaviours. Cells marked "-" in the
/// RFC (events that cannot occur in that state) are absent: the automaton ignores such events.
/// </summary>
public static class PppTransitions
{
    private static readonly PppTransition?[,] Table = Build();

    /// <summary>The cell for <paramref name="state"/> × <paramref name="e"/>, or null where the RFC has "-".</summary>
    public static PppTransition? Lookup(PppState state, PppEvent e) => Table[(int)state, (int)e];

    private static PppTransition?[,] Build()
    {
        var t = new PppTransition?[10, 16];
        const PppAction tlu = PppAction.Tlu, tld = PppAction.Tld, tls = PppAction.Tls, tlf = PppAction.Tlf;
        const PppAction irc = PppAction.Irc, zrc = PppAction.Zrc, scr = PppAction.Scr, sca = PppAction.Sca;
        const PppAction scn = PppAction.Scn, str = PppAction.Str, sta = PppAction.Sta, scj = PppAction.Scj;
        const PppAction ser = PppAction.Ser;

        void Set(PppEvent e, PppState s, PppState next, params PppAction[] actions) => t[(int)s, (int)e] = new PppTransition(next, actions);

        const PppState initial = PppState.Initial, starting = PppState.Starting, closed = PppState.Closed, stopped = PppState.Stopped;
        const PppState closing = PppState.Closing, stopping = PppState.Stopping, reqSent = PppState.RequestSent;
        const PppState ackRcvd = PppState.AckReceived, ackSent = PppState.AckSent, opened = PppState.Opened;

        Set(PppEvent.Up, initial, closed);
        Set(PppEvent.Up, starting, reqSent, irc, scr);

        Set(PppEvent.Down, closed, initial);
        Set(PppEvent.Down, stopped, starting, tls);
        Set(PppEvent.Down, closing, initial);
        Set(PppEvent.Down, stopping, starting);
        Set(PppEvent.Down, reqSent, starting);
        Set(PppEvent.Down, ackRcvd, starting);
        Set(PppEvent.Down, ackSent, starting);
        Set(PppEvent.Down, opened, starting, tld);

        Set(PppEvent.Open, initial, starting, tls);
        Set(PppEvent.Open, starting, starting);
        Set(PppEvent.Open, closed, reqSent, irc, scr);
        Set(PppEvent.Open, stopped, stopped);
        Set(PppEvent.Open, closing, stopping);
        Set(PppEvent.Open, stopping, stopping);
        Set(PppEvent.Open, reqSent, reqSent);
        Set(PppEvent.Open, ackRcvd, ackRcvd);
        Set(PppEvent.Open, ackSent, ackSent);
        Set(PppEvent.Open, opened, opened);

        Set(PppEvent.Close, initial, initial);
        Set(PppEvent.Close, starting, initial, tlf);
        Set(PppEvent.Close, closed, closed);
        Set(PppEvent.Close, stopped, closed);
        Set(PppEvent.Close, closing, closing);
        Set(PppEvent.Close, stopping, closing);
        Set(PppEvent.Close, reqSent, closing, irc, str);
        Set(PppEvent.Close, ackRcvd, closing, irc, str);
        Set(PppEvent.Close, ackSent, closing, irc, str);
        Set(PppEvent.Close, opened, closing, tld, irc, str);

        Set(PppEvent.TimeoutPlus, closing, closing, str);
        Set(PppEvent.TimeoutPlus, stopping, stopping, str);
        Set(PppEvent.TimeoutPlus, reqSent, reqSent, scr);
        Set(PppEvent.TimeoutPlus, ackRcvd, reqSent, scr);
        Set(PppEvent.TimeoutPlus, ackSent, ackSent, scr);

        Set(PppEvent.TimeoutMinus, closing, closed, tlf);
        Set(PppEvent.TimeoutMinus, stopping, stopped, tlf);
        Set(PppEvent.TimeoutMinus, reqSent, stopped, tlf);
        Set(PppEvent.TimeoutMinus, ackRcvd, stopped, tlf);
        Set(PppEvent.TimeoutMinus, ackSent, stopped, tlf);

        Set(PppEvent.RcrPlus, closed, closed, sta);
        Set(PppEvent.RcrPlus, stopped, ackSent, irc, scr, sca);
        Set(PppEvent.RcrPlus, closing, closing);
        Set(PppEvent.RcrPlus, stopping, stopping);
        Set(PppEvent.RcrPlus, reqSent, ackSent, sca);
        Set(PppEvent.RcrPlus, ackRcvd, opened, sca, tlu);
        Set(PppEvent.RcrPlus, ackSent, ackSent, sca);
        Set(PppEvent.RcrPlus, opened, ackSent, tld, scr, sca);

        Set(PppEvent.RcrMinus, closed, closed, sta);
        Set(PppEvent.RcrMinus, stopped, reqSent, irc, scr, scn);
        Set(PppEvent.RcrMinus, closing, closing);
        Set(PppEvent.RcrMinus, stopping, stopping);
        Set(PppEvent.RcrMinus, reqSent, reqSent, scn);
        Set(PppEvent.RcrMinus, ackRcvd, ackRcvd, scn);
        Set(PppEvent.RcrMinus, ackSent, reqSent, scn);
        Set(PppEvent.RcrMinus, opened, reqSent, tld, scr, scn);

        Set(PppEvent.Rca, closed, closed, sta);
        Set(PppEvent.Rca, stopped, stopped, sta);
        Set(PppEvent.Rca, closing, closing);
        Set(PppEvent.Rca, stopping, stopping);
        Set(PppEvent.Rca, reqSent, ackRcvd, irc);
        Set(PppEvent.Rca, ackRcvd, reqSent, scr);
        Set(PppEvent.Rca, ackSent, opened, irc, tlu);
        Set(PppEvent.Rca, opened, reqSent, tld, scr);

        Set(PppEvent.Rcn, closed, closed, sta);
        Set(PppEvent.Rcn, stopped, stopped, sta);
        Set(PppEvent.Rcn, closing, closing);
        Set(PppEvent.Rcn, stopping, stopping);
        Set(PppEvent.Rcn, reqSent, reqSent, irc, scr);
        Set(PppEvent.Rcn, ackRcvd, reqSent, scr);
        Set(PppEvent.Rcn, ackSent, ackSent, irc, scr);
        Set(PppEvent.Rcn, opened, reqSent, tld, scr);

        Set(PppEvent.Rtr, closed, closed, sta);
        Set(PppEvent.Rtr, stopped, stopped, sta);
        Set(PppEvent.Rtr, closing, closing, sta);
        Set(PppEvent.Rtr, stopping, stopping, sta);
        Set(PppEvent.Rtr, reqSent, reqSent, sta);
        Set(PppEvent.Rtr, ackRcvd, reqSent, sta);
        Set(PppEvent.Rtr, ackSent, reqSent, sta);
        Set(PppEvent.Rtr, opened, stopping, tld, zrc, sta);

        Set(PppEvent.Rta, closed, closed);
        Set(PppEvent.Rta, stopped, stopped);
        Set(PppEvent.Rta, closing, closed, tlf);
        Set(PppEvent.Rta, stopping, stopped, tlf);
        Set(PppEvent.Rta, reqSent, reqSent);
        Set(PppEvent.Rta, ackRcvd, reqSent);
        Set(PppEvent.Rta, ackSent, ackSent);
        Set(PppEvent.Rta, opened, reqSent, tld, scr);

        foreach (var s in new[] { closed, stopped, closing, stopping, reqSent, ackRcvd, ackSent, opened })
        {
            Set(PppEvent.Ruc, s, s, scj);
        }

        Set(PppEvent.RxjPlus, closed, closed);
        Set(PppEvent.RxjPlus, stopped, stopped);
        Set(PppEvent.RxjPlus, closing, closing);
        Set(PppEvent.RxjPlus, stopping, stopping);
        Set(PppEvent.RxjPlus, reqSent, reqSent);
        Set(PppEvent.RxjPlus, ackRcvd, reqSent);
        Set(PppEvent.RxjPlus, ackSent, ackSent);
        Set(PppEvent.RxjPlus, opened, opened);

        Set(PppEvent.RxjMinus, closed, closed, tlf);
        Set(PppEvent.RxjMinus, stopped, stopped, tlf);
        Set(PppEvent.RxjMinus, closing, closed, tlf);
        Set(PppEvent.RxjMinus, stopping, stopped, tlf);
        Set(PppEvent.RxjMinus, reqSent, stopped, tlf);
        Set(PppEvent.RxjMinus, ackRcvd, stopped, tlf);
        Set(PppEvent.RxjMinus, ackSent, stopped, tlf);
        Set(PppEvent.RxjMinus, opened, stopping, tld, irc, str);

        Set(PppEvent.Rxr, closed, closed);
        Set(PppEvent.Rxr, stopped, stopped);
        Set(PppEvent.Rxr, closing, closing);
        Set(PppEvent.Rxr, stopping, stopping);
        Set(PppEvent.Rxr, reqSent, reqSent);
        Set(PppEvent.Rxr, ackRcvd, ackRcvd);
        Set(PppEvent.Rxr, ackSent, ackSent);
        Set(PppEvent.Rxr, opened, opened, ser);

        _ = tls;
        return t;
    }
}
