using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Tests.Ppp;

/// <summary>
/// The CCP/MPPE hook, exercised with a stand-in: a control protocol under 0x80FD with one option, and an XOR
/// "cipher" that adds a 2-byte header, the way MPPE will.
/// </summary>
public sealed class PppEncryptionLayerTests
{
    private sealed class FakeCcpOption(bool offer) : PppOption(18, "Fake-MPPE")
    {
        private bool _requesting;

        public override void ResetLocal() => _requesting = offer;
        public override int WriteRequest(Span<byte> value) => _requesting ? 0 : -1;
        public override void ApplyReject() => Fail("peer refused encryption");

        public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
        {
            hintLength = 0;
            return offer ? OptionVerdict.Ack : OptionVerdict.Reject;
        }
    }

    private sealed class FakeCcp : ControlProtocol
    {
        public FakeCcp(PppLayerContext context, bool offer)
            : base(PppProtocol.Ccp, "CCP", context.Automaton, context.Time, context.Output, context.Dispatch)
        {
            AddOption(new FakeCcpOption(offer));
        }
    }

    private sealed class XorTransform : IPppDataTransform
    {
        public int HeaderRoom => 2;

        public bool TryEncode(Span<byte> buffer, ref int offset, ref int length)
        {
            foreach (ref var b in buffer.Slice(offset, length))
            {
                b ^= 0x5A;
            }

            offset -= 2;
            length += 2;
            buffer[offset] = 0x90;
            buffer[offset + 1] = 0x01;
            return true;
        }

        public bool TryDecode(Span<byte> buffer, ref int offset, ref int length)
        {
            if (length < 2 || buffer[offset] != 0x90)
            {
                return false;
            }

            offset += 2;
            length -= 2;
            foreach (ref var b in buffer.Slice(offset, length))
            {
                b ^= 0x5A;
            }

            return true;
        }
    }

    private sealed class FakeLayer(PppLayerContext context, bool offer) : IPppEncryptionLayer
    {
        public ControlProtocol ControlProtocol { get; } = new FakeCcp(context, offer);
        public bool Required => true;
        public IPppDataTransform? Transform { get; } = new XorTransform();
        public string? FailureReason => ControlProtocol.Automaton.LastReason;
        public string? FatalReason => null;
        public string? Description => "XOR";
        public int Authenticated { get; private set; }

        public void OnAuthenticated(IAuthProtocol? authenticator, IAuthProtocol? peer) => Authenticated++;

        public void OnPeerRejectedUnknownProtocol(PppProtocol protocol)
        {
        }

        public event Action<string>? Failed
        {
            add { }
            remove { }
        }

        public void Dispose() => ControlProtocol.Dispose();
    }

    [Fact]
    public void Required_layer_comes_up_before_IP_and_data_travels_transformed()
    {
        FakeLayer? a = null;
        using var link = new BackToBack(
            PppSettings.Server(), PppSettings.Client(),
            aLayer: c => a = new FakeLayer(c, true),
            bLayer: c => new FakeLayer(c, true));
        link.StartBoth();

        Assert.Equal(1, a!.Authenticated);
        Assert.True(link.A.Negotiated.EncryptionUp);
        Assert.True(link.B.Negotiated.Ipv4Up);
        var encryptionUp = link.AOut.Events.FindIndex(e => e.Kind == PppSessionEventKind.EncryptionUp);
        var ipUp = link.AOut.Events.FindIndex(e => e.Kind == PppSessionEventKind.NetworkUp && e.Protocol == PppProtocol.Ipcp);
        Assert.InRange(encryptionUp, 0, ipUp - 1);

        var packet = new byte[] { 0x45, 0, 0, 20, 1, 2, 3, 4 };
        var buffer = new byte[link.A.RequiredHeaderRoom + packet.Length];
        packet.CopyTo(buffer, link.A.RequiredHeaderRoom);
        var sentBefore = link.AOut.AllSent.Count;
        Assert.True(link.A.TrySendPacket(PppProtocol.Ipv4, buffer, link.A.RequiredHeaderRoom, packet.Length));

        var wire = link.AOut.AllSent[sentBefore];
        Assert.True(PppFrame.TryDecode(wire, out var protocol, out var payload));
        Assert.Equal(PppProtocol.CompressedDatagram, protocol);
        Assert.Equal(0x90, payload[0]);
        link.Pump();
        Assert.Equal(packet, Assert.Single(link.BOut.Delivered).Packet);

        // Plain IP is refused when encryption is required.
        link.B.ReceiveFrame(new byte[] { 0x21, 0x45, 0, 0, 20 });
        Assert.Single(link.BOut.Delivered);
    }

    [Fact]
    public void Peer_refusing_required_encryption_closes_the_link_with_reason()
    {
        using var link = new BackToBack(
            PppSettings.Server(), PppSettings.Client(),
            aLayer: c => new FakeLayer(c, true),
            bLayer: c => new FakeLayer(c, false));
        link.StartBoth();
        link.Run(TimeSpan.FromSeconds(10));

        Assert.Equal(PppPhase.Dead, link.A.Phase);
        Assert.Equal("peer refused encryption", link.AOut.ReasonOf(PppSessionEventKind.Finished));
        Assert.False(link.A.Negotiated.Ipv4Up);
    }
}
