namespace Firmware.Protocol.Pptp;

/// <summary>The call half of the control connection: outgoing calls in both roles, incoming calls refused.</summary>
public sealed partial class PptpControlConnection
{
    private readonly List<PptpCall> _calls = [];
    private ushort _nextSerial;

    /// <summary>Live calls (not yet cleared).</summary>
    public IReadOnlyList<PptpCall> Calls => _calls;

    /// <summary>The live call whose <see cref="PptpCall.LocalCallId"/> is <paramref name="localCallId"/>: the
    /// demultiplexing key of received GRE packets.</summary>
    public PptpCall? FindCall(ushort localCallId)
    {
        foreach (var call in _calls)
        {
            if (call.LocalCallId == localCallId)
            {
                return call;
            }
        }
        return null;
    }

    /// <summary>
    /// Client role, established: sends Outgoing-Call-Request for a new call with a fresh random call ID. False
    /// (nothing sent) in the wrong role or state, or when the peer's announced Maximum Channels are in use.
    /// The host hears <see cref="IPptpControlHost.OnCallConnected"/> or <see cref="IPptpControlHost.OnCallCleared"/>.
    /// </summary>
    public bool TryPlaceCall(out PptpCall? call, string phoneNumber = "")
    {
        call = null;
        if (Role != PptpControlRole.Client || State != PptpControlState.Established)
        {
            return false;
        }
        if (Peer is { MaximumChannels: > 0 } peer && _calls.Count >= peer.MaximumChannels)
        {
            return false;
        }
        call = new PptpCall(this, AllocateCallId(), _nextSerial++, PptpCallState.WaitReply)
        {
            LocalReceiveWindow = Options.ReceiveWindow,
        };
        _calls.Add(call);
        Send(new OutgoingCallRequest
        {
            CallId = call.LocalCallId,
            CallSerialNumber = call.SerialNumber,
            MinimumBps = Options.MinimumBps,
            MaximumBps = Options.MaximumBps,
            BearerType = PptpBearerType.Any,
            FramingType = PptpFramingType.Any,
            PacketReceiveWindowSize = Options.ReceiveWindow,
            PacketProcessingDelay = Options.PacketProcessingDelay,
            PhoneNumber = phoneNumber,
        });
        StartCallTimer(call);
        return true;
    }

    /// <summary>
    /// Ends a call from our side. Client: Call-Clear-Request, then the call clears on Call-Disconnect-Notify,
    /// on its timeout, or when TCP closes (pptpd closes TCP instead of answering). Server: Call-Disconnect-Notify
    /// (Admin Shutdown) and the call clears at once.
    /// </summary>
    public void ClearCall(PptpCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!call.IsLive || call.Connection != this || State != PptpControlState.Established)
        {
            return;
        }
        if (Role == PptpControlRole.Server)
        {
            Send(new CallDisconnectNotify { CallId = call.LocalCallId, ResultCode = CallDisconnectResult.AdminShutdown });
            RemoveCall(call, PptpCallClearReason.ClearedLocally);
            return;
        }
        if (call.State == PptpCallState.WaitDisconnect)
        {
            return;
        }
        Send(new CallClearRequest { CallId = call.LocalCallId });
        if (call.State == PptpCallState.WaitReply)
        {
            // The peer has not told us its call ID, so its Call-Disconnect-Notify could not be matched.
            RemoveCall(call, PptpCallClearReason.ClearedLocally);
            return;
        }
        call.State = PptpCallState.WaitDisconnect;
        StartCallTimer(call);
    }

    /// <summary>Sends Set-Link-Info for an established call (the ACCMs LCP negotiated).</summary>
    public void SendSetLinkInfo(PptpCall call, uint sendAccm, uint receiveAccm)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (call.State != PptpCallState.Established || call.Connection != this || State != PptpControlState.Established)
        {
            return;
        }
        Send(new SetLinkInfo { PeerCallId = call.PeerCallId, SendAccm = sendAccm, ReceiveAccm = receiveAccm });
    }

    private void OnOutgoingCallRequest(OutgoingCallRequest request)
    {
        if (Role != PptpControlRole.Server)
        {
            // A client dials; it does not answer.
            Send(new OutgoingCallReply { PeerCallId = request.CallId, ResultCode = OutgoingCallResult.DoNotAccept });
            return;
        }
        foreach (var existing in _calls)
        {
            if (existing.PeerCallId == request.CallId)
            {
                Send(new OutgoingCallReply
                {
                    PeerCallId = request.CallId,
                    ResultCode = OutgoingCallResult.GeneralError,
                    ErrorCode = PptpErrorCode.BadCallId,
                });
                return;
            }
        }

        var decision = _host.DecideOutgoingCall(this, request);
        if (State != PptpControlState.Established)
        {
            return;
        }
        if (!decision.IsAccepted)
        {
            Send(new OutgoingCallReply { PeerCallId = request.CallId, ResultCode = decision.Result, ErrorCode = decision.ErrorCode });
            return;
        }

        var call = new PptpCall(this, AllocateCallId(), request.CallSerialNumber, PptpCallState.Established)
        {
            PeerCallId = request.CallId,
            LocalReceiveWindow = Options.ReceiveWindow,
            PeerReceiveWindow = request.PacketReceiveWindowSize,
            PeerProcessingDelay = request.PacketProcessingDelay,
            ConnectSpeed = decision.ConnectSpeed != 0 ? decision.ConnectSpeed : Options.ConnectSpeed,
        };
        _calls.Add(call);
        Send(new OutgoingCallReply
        {
            CallId = call.LocalCallId,
            PeerCallId = call.PeerCallId,
            ResultCode = OutgoingCallResult.Connected,
            ConnectSpeed = call.ConnectSpeed,
            PacketReceiveWindowSize = Options.ReceiveWindow,
            PacketProcessingDelay = Options.PacketProcessingDelay,
        });
        _host.OnCallConnected(call);
    }

    private void OnOutgoingCallReply(OutgoingCallReply reply)
    {
        if (Role != PptpControlRole.Client)
        {
            Counters.CountDrop(PptpControlDropReason.WrongRole);
            return;
        }
        var call = FindCall(reply.PeerCallId);
        if (call is not { State: PptpCallState.WaitReply })
        {
            Counters.CountDrop(PptpControlDropReason.UnknownCallId);
            return;
        }
        call.PeerOutgoingResult = reply.ResultCode;
        call.PeerErrorCode = reply.ErrorCode;
        call.PeerCauseCode = reply.CauseCode;
        if (reply.ResultCode != OutgoingCallResult.Connected)
        {
            RemoveCall(call, PptpCallClearReason.RefusedByPeer);
            return;
        }
        call.PeerCallId = reply.CallId;
        call.PeerReceiveWindow = reply.PacketReceiveWindowSize;
        call.PeerProcessingDelay = reply.PacketProcessingDelay;
        call.ConnectSpeed = reply.ConnectSpeed;
        call.State = PptpCallState.Established;
        call.Timer?.Stop();
        _host.OnCallConnected(call);
    }

    private void OnCallClearRequest(CallClearRequest clear)
    {
        // Call ID is the sender's own, i.e. our peer call ID.
        var call = FindByPeerCallId(clear.CallId);
        if (call is null)
        {
            Counters.CountDrop(PptpControlDropReason.UnknownCallId);
            return;
        }
        Send(new CallDisconnectNotify { CallId = call.LocalCallId, ResultCode = CallDisconnectResult.Request });
        RemoveCall(call, PptpCallClearReason.ClearRequestedByPeer);
    }

    private void OnCallDisconnectNotify(CallDisconnectNotify notify)
    {
        // Call ID is the sender's own (RFC 2637 section 2.13), i.e. our peer call ID.
        var call = FindByPeerCallId(notify.CallId);
        if (call is null)
        {
            Counters.CountDrop(PptpControlDropReason.UnknownCallId);
            return;
        }
        call.PeerDisconnectResult = notify.ResultCode;
        call.PeerErrorCode = notify.ErrorCode;
        call.PeerCauseCode = notify.CauseCode;
        RemoveCall(call, call.State == PptpCallState.WaitDisconnect
            ? PptpCallClearReason.ClearedLocally
            : PptpCallClearReason.DisconnectedByPeer);
    }

    private void OnWanErrorNotify(WanErrorNotify wanError)
    {
        var call = FindCall(wanError.PeerCallId);
        if (call is null)
        {
            Counters.CountDrop(PptpControlDropReason.UnknownCallId);
            return;
        }
        call.LastWanError = wanError;
        _host.OnWanError(call);
    }

    private void OnSetLinkInfo(SetLinkInfo linkInfo)
    {
        var call = FindCall(linkInfo.PeerCallId);
        if (call is null)
        {
            Counters.CountDrop(PptpControlDropReason.UnknownCallId);
            return;
        }
        call.LinkInfoReceived = true;
        call.SendAccm = linkInfo.SendAccm;
        call.ReceiveAccm = linkInfo.ReceiveAccm;
        _host.OnLinkInfo(call);
    }

    private PptpCall? FindByPeerCallId(ushort peerCallId)
    {
        foreach (var call in _calls)
        {
            if (call.State != PptpCallState.WaitReply && call.PeerCallId == peerCallId)
            {
                return call;
            }
        }
        return null;
    }

    /// <summary>A random call ID not used by a live call of this connection, nor taken elsewhere as
    /// <see cref="PptpControlOptions.CallIdAvailable"/> says. The gateway's GRE demultiplexer keys on (peer
    /// address, call ID), and several connections may come from one address (hosts behind one NAT).</summary>
    private ushort AllocateCallId()
    {
        Span<byte> random = stackalloc byte[2];
        for (var attempt = 0; attempt < 64; attempt++)
        {
            Options.RandomFill(random);
            var candidate = (ushort)((random[0] << 8) | random[1]);
            if (IsCallIdFree(candidate))
            {
                return candidate;
            }
        }
        // A broken or adversarial random source: fall back to the first free value.
        for (var candidate = 0; candidate <= ushort.MaxValue; candidate++)
        {
            if (IsCallIdFree((ushort)candidate))
            {
                return (ushort)candidate;
            }
        }
        return 0;
    }

    private bool IsCallIdFree(ushort candidate)
        => FindCall(candidate) is null && (Options.CallIdAvailable is not { } available || available(candidate));

    private void StartCallTimer(PptpCall call)
    {
        call.Timer ??= new ProtocolTimer(_time, () => OnCallTimer(call), _dispatch);
        call.Timer.Start(Options.CallReplyTimeout);
    }

    private void OnCallTimer(PptpCall call)
    {
        switch (call.State)
        {
            case PptpCallState.WaitReply:
                // Tell the peer in case its reply is merely late, then forget the call.
                Send(new CallClearRequest { CallId = call.LocalCallId });
                RemoveCall(call, PptpCallClearReason.ReplyTimeout);
                break;
            case PptpCallState.WaitDisconnect:
                RemoveCall(call, PptpCallClearReason.DisconnectTimeout);
                break;
            default:
                break;
        }
    }

    private void ClearAllCalls()
    {
        if (_calls.Count == 0)
        {
            return;
        }
        foreach (var call in _calls.ToArray())
        {
            RemoveCall(call, call.State == PptpCallState.WaitDisconnect
                ? PptpCallClearReason.ClearedLocally
                : PptpCallClearReason.ControlConnectionClosed);
        }
    }

    private void RemoveCall(PptpCall call, PptpCallClearReason reason)
    {
        if (!call.IsLive)
        {
            return;
        }
        call.State = PptpCallState.Cleared;
        call.ClearReason = reason;
        call.Timer?.Dispose();
        call.Timer = null;
        _calls.Remove(call);
        _host.OnCallCleared(call);
    }
}
