using System.Net;
using Firmware.Protocol.Pptp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Pptp;

/// <summary>A recording host: queues what the connection sends, records every event.</summary>
internal sealed class RecordingHost : IPptpControlHost
{
    public Queue<byte[]> Outbound { get; } = new();
    public List<PptpControlMessage> Sent { get; } = [];
    public List<string> Events { get; } = [];
    public List<PptpCall> Connected { get; } = [];
    public List<PptpCall> Cleared { get; } = [];
    public bool TransportClosed { get; set; }
    public PptpTeardownReason? ClosedReason { get; private set; }
    public Func<OutgoingCallRequest, PptpCallDecision> Decide { get; set; } = _ => PptpCallDecision.Accept();
    public PptpControlConnection? Colliding { get; set; }
    public PptpControlConnection Connection { get; set; } = null!;

    public void SendControl(ReadOnlySpan<byte> message)
    {
        Assert.False(TransportClosed, "sent after close");
        Outbound.Enqueue(message.ToArray());
        Assert.Equal(PptpDecodeStatus.Ok, PptpControlCodec.TryDecode(message, out var decoded));
        Sent.Add(decoded!);
    }

    public void CloseTransport()
    {
        TransportClosed = true;
        Events.Add("close-transport");
    }

    public void OnEstablished(PptpControlConnection connection) => Events.Add("established");

    public void OnClosed(PptpControlConnection connection, PptpTeardownReason reason)
    {
        Assert.Null(ClosedReason);
        ClosedReason = reason;
        Events.Add($"closed:{reason}");
    }

    public PptpCallDecision DecideOutgoingCall(PptpControlConnection connection, OutgoingCallRequest request) => Decide(request);

    public void OnCallConnected(PptpCall call)
    {
        Connected.Add(call);
        Events.Add($"call-connected:{call.LocalCallId:x4}");
    }

    public void OnCallCleared(PptpCall call)
    {
        Cleared.Add(call);
        Events.Add($"call-cleared:{call.ClearReason}");
    }

    public void OnLinkInfo(PptpCall call) => Events.Add("link-info");

    public void OnWanError(PptpCall call) => Events.Add("wan-error");

    public PptpControlConnection? FindCollidingConnection(PptpControlConnection answering) => Colliding;

    public T LastSent<T>() where T : PptpControlMessage => Assert.IsType<T>(Sent[^1]);
}

/// <summary>A seeded random filler so call IDs are deterministic.</summary>
internal static class SeededRandom
{
    public static Action<Span<byte>> Create(int seed)
    {
        var random = new Random(seed);
        return random.NextBytes;
    }
}

/// <summary>Two control connections over an in-memory "TCP" (ordered byte queues) on one fake clock.</summary>
internal sealed class BackToBack
{
    public BackToBack(PptpControlOptions? clientOptions = null, PptpControlOptions? serverOptions = null, FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider();
        ClientHost = new RecordingHost();
        ServerHost = new RecordingHost();
        Client = new PptpControlConnection(PptpControlRole.Client,
            clientOptions ?? new PptpControlOptions { HostName = "client", RandomFill = SeededRandom.Create(1) }, ClientHost, Time);
        Server = new PptpControlConnection(PptpControlRole.Server,
            serverOptions ?? new PptpControlOptions { HostName = "server", MaximumChannels = 0, RandomFill = SeededRandom.Create(2) }, ServerHost, Time);
        ClientHost.Connection = Client;
        ServerHost.Connection = Server;
    }

    public FakeTimeProvider Time { get; }
    public RecordingHost ClientHost { get; }
    public RecordingHost ServerHost { get; }
    public PptpControlConnection Client { get; }
    public PptpControlConnection Server { get; }

    /// <summary>When set, bytes from the server are lost (a black hole in one direction).</summary>
    public bool DropServerToClient { get; set; }

    private bool _clientSawClose;
    private bool _serverSawClose;

    /// <summary>Moves queued bytes both ways until quiet; a closed transport is seen by the other end.</summary>
    public void Pump()
    {
        for (var guard = 0; guard < 1000; guard++)
        {
            var moved = false;
            if (ClientHost.Outbound.TryDequeue(out var toServer))
            {
                if (!_serverSawClose)
                {
                    Server.OnBytesReceived(toServer);
                }
                moved = true;
            }
            if (ServerHost.Outbound.TryDequeue(out var toClient))
            {
                if (!DropServerToClient && !_clientSawClose)
                {
                    Client.OnBytesReceived(toClient);
                }
                moved = true;
            }
            if (!moved)
            {
                if (ClientHost.TransportClosed && !_serverSawClose)
                {
                    _serverSawClose = true;
                    ServerHost.TransportClosed = true;
                    Server.OnTransportClosed();
                    moved = true;
                }
                if (ServerHost.TransportClosed && !_clientSawClose)
                {
                    _clientSawClose = true;
                    ClientHost.TransportClosed = true;
                    Client.OnTransportClosed();
                    moved = true;
                }
            }
            if (!moved)
            {
                return;
            }
        }
        Assert.Fail("pump did not settle");
    }

    public void Establish()
    {
        Client.Start();
        Server.Start();
        Pump();
        Assert.Equal(PptpControlState.Established, Client.State);
        Assert.Equal(PptpControlState.Established, Server.State);
    }

    public PptpCall PlaceCall()
    {
        Assert.True(Client.TryPlaceCall(out var call));
        Pump();
        Assert.Equal(PptpCallState.Established, call!.State);
        return call;
    }

    public static IPAddress Ip(string text) => IPAddress.Parse(text);
}
