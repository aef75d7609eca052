using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Firmware.Protocol.Tests.Mppe;

public sealed class MppeCipherTests
{
    private static readonly byte[] StartKey = Convert.FromHexString("8B7CDC149B993A1BA118CB153F56DCCB");

    public static TheoryData<MppeKeyStrength, bool> AllModes()
    {
        var data = new TheoryData<MppeKeyStrength, bool>();
        foreach (var strength in new[] { MppeKeyStrength.Bits40, MppeKeyStrength.Bits56, MppeKeyStrength.Bits128 })
        {
            data.Add(strength, true);
            data.Add(strength, false);
        }
        return data;
    }

    /// <summary>
    /// Header room, then PPP protocol 0021 and an IPv4-looking packet of random bytes (version and total
    /// length right: stateful MPPE checks them).
    /// </summary>
    private static byte[] Plain(Random random, int payloadLength)
    {
        var frame = new byte[MppeHeader.Length + 2 + payloadLength];
        frame[2] = 0x00;
        frame[3] = 0x21;
        random.NextBytes(frame.AsSpan(4));
        frame[4] = 0x45;
        frame[6] = (byte)(payloadLength >> 8);
        frame[7] = (byte)payloadLength;
        return frame;
    }

    /// <summary>One IPv4-looking plaintext (see <see cref="Plain"/>) and its frame, encrypted by <paramref name="encryptor"/>.</summary>
    private static byte[] Encrypted(MppeEncryptor encryptor, Random random, int payloadLength, out byte[] plain)
    {
        plain = Plain(random, payloadLength);
        var frame = (byte[])plain.Clone();
        encryptor.Encrypt(frame);
        return frame;
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void Round_trip_through_a_coherency_count_wrap(MppeKeyStrength strength, bool stateless)
    {
        var random = new Random(42);
        using var encryptor = new MppeEncryptor(StartKey, strength, stateless);
        using var decryptor = new MppeDecryptor(StartKey, strength, stateless);

        for (var n = 0; n < 4096 + 700; n++)
        {
            var plain = Plain(random, random.Next(20, 200));
            var frame = (byte[])plain.Clone();
            Assert.True(encryptor.Encrypt(frame));

            var count = MppeHeader.CoherencyCount(frame);
            var bits = MppeHeader.Bits(frame);
            Assert.Equal(n & 0x0FFF, count);
            Assert.NotEqual(0, bits & MppeHeader.EncryptedBit);
            var expectFlushed = stateless || (count & 0xFF) == 0xFF;
            Assert.Equal(expectFlushed, (bits & MppeHeader.FlushedBit) != 0);
            Assert.False(frame.AsSpan(2).SequenceEqual(plain.AsSpan(2)));

            Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frame));
            Assert.True(frame.AsSpan(2).SequenceEqual(plain.AsSpan(2)));
        }

        Assert.Equal(0, decryptor.TotalDroppedPackets);
    }

    [Theory]
    [InlineData(MppeKeyStrength.Bits40)]
    [InlineData(MppeKeyStrength.Bits128)]
    public void Stateless_ciphertext_matches_an_independent_rfc3078_composition(MppeKeyStrength strength)
    {
        // Packet n uses the session key changed n+1 times from the initial key, with a fresh RC4 each time.
        var length = strength == MppeKeyStrength.Bits128 ? 16 : 8;
        var session = new byte[length];
        MppeKeyDerivation.GetInitialSessionKey(StartKey, strength, session);
        using var encryptor = new MppeEncryptor(StartKey, strength, stateless: true);
        var random = new Random(7);
        for (var n = 0; n < 20; n++)
        {
            var next = new byte[length];
            MppeKeyDerivation.GetNextSessionKey(StartKey, session, strength, next);
            session = next;

            var plain = Plain(random, 40);
            var expected = new byte[plain.Length - 2];
            var rc4 = new RC4Engine();
            rc4.Init(true, new KeyParameter(session));
            rc4.ProcessBytes(plain, 2, expected.Length, expected, 0);

            var frame = (byte[])plain.Clone();
            encryptor.Encrypt(frame);
            Assert.Equal(0x90, frame[0] & 0xF0);
            Assert.Equal(expected, frame[2..]);
        }
    }

    [Fact]
    public void Both_directions_of_a_link_use_their_own_keys()
    {
        var material = new MppeKeyMaterial(AuthMethod.MsChapV2, MsChapCrypto.NtPasswordHash("clientPass"),
            Convert.FromHexString("41C00C584BD2D91C4017A2A12FA59F3F"), [],
            Convert.FromHexString("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"));
        var server = MppeKeyDerivation.DeriveStartKeys(material, isAuthenticator: true, MppeKeyStrength.Bits128);
        var client = MppeKeyDerivation.DeriveStartKeys(material, isAuthenticator: false, MppeKeyStrength.Bits128);

        using var serverOut = new MppeEncryptor(server.Send, MppeKeyStrength.Bits128, stateless: true);
        using var clientIn = new MppeDecryptor(client.Receive, MppeKeyStrength.Bits128, stateless: true);
        using var clientOut = new MppeEncryptor(client.Send, MppeKeyStrength.Bits128, stateless: true);
        using var serverIn = new MppeDecryptor(server.Receive, MppeKeyStrength.Bits128, stateless: true);
        using var wrongWay = new MppeDecryptor(server.Send, MppeKeyStrength.Bits128, stateless: true);

        var random = new Random(9);
        for (var n = 0; n < 50; n++)
        {
            var down = Plain(random, 100);
            var downFrame = (byte[])down.Clone();
            serverOut.Encrypt(downFrame);
            Assert.Equal(MppeDecryptStatus.Ok, clientIn.Decrypt(downFrame));
            Assert.Equal(down[2..], downFrame[2..]);

            var up = Plain(random, 100);
            var upFrame = (byte[])up.Clone();
            clientOut.Encrypt(upFrame);
            var copy = (byte[])upFrame.Clone();
            Assert.Equal(MppeDecryptStatus.Ok, serverIn.Decrypt(upFrame));
            Assert.Equal(up[2..], upFrame[2..]);

            // The client's send key is not the server's send key: the other direction's key gives garbage.
            wrongWay.Decrypt(copy);
            Assert.NotEqual(up[2..], copy[2..]);
        }
    }

    [Theory]
    [InlineData(MppeKeyStrength.Bits40)]
    [InlineData(MppeKeyStrength.Bits56)]
    [InlineData(MppeKeyStrength.Bits128)]
    public void Stateless_survives_loss_and_reordering_and_refuses_duplicates(MppeKeyStrength strength)
    {
        var random = new Random(11);
        using var encryptor = new MppeEncryptor(StartKey, strength, stateless: true);
        using var decryptor = new MppeDecryptor(StartKey, strength, stateless: true);

        var sent = new List<(byte[] Plain, byte[] Frame)>();
        for (var n = 0; n < 5000; n++)
        {
            var plain = Plain(random, random.Next(20, 100));
            var frame = (byte[])plain.Clone();
            encryptor.Encrypt(frame);
            sent.Add((plain, frame));
        }

        // Lose 15%, then shuffle within windows of 8 (late by at most 7 counts, inside the 64 window).
        var delivered = sent.Where(_ => random.NextDouble() > 0.15).ToList();
        for (var start = 0; start + 8 <= delivered.Count; start += 8)
        {
            var window = delivered.GetRange(start, 8).OrderBy(_ => random.Next()).ToList();
            for (var i = 0; i < 8; i++)
            {
                delivered[start + i] = window[i];
            }
        }

        foreach (var (plain, frame) in delivered)
        {
            var copy = (byte[])frame.Clone();
            Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(copy));
            Assert.Equal(plain[2..], copy[2..]);
        }
        Assert.Equal(delivered.Count, decryptor.PacketsDecrypted);

        // Replays of a recent packet and of the newest are refused.
        var recent = (byte[])delivered[^3].Frame.Clone();
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt(recent));
        Assert.Equal(MppeDropReason.Replayed, decryptor.LastDropReason);
        var newest = sent.Last(s => delivered.Contains(s)).Frame;
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt((byte[])newest.Clone()));
        Assert.Equal(2, decryptor.DroppedPackets(MppeDropReason.Replayed));
    }

    [Fact]
    public void Stateless_packets_too_late_or_too_far_ahead_are_dropped()
    {
        var random = new Random(12);
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: true);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: true, maxForwardJump: 150);
        var frames = new List<byte[]>();
        for (var n = 0; n < 400; n++)
        {
            var frame = Plain(random, 20);
            encryptor.Encrypt(frame);
            frames.Add(frame);
        }

        // From the start (count 4095), count 100 is 101 ahead: allowed.
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[100]));
        // 151 ahead of 100 is too far; 150 is allowed.
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt(frames[251]));
        Assert.Equal(MppeDropReason.OutOfWindow, decryptor.LastDropReason);
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[250]));
        // 64 behind the newest is outside the reorder window; 63 behind is inside.
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt(frames[186]));
        Assert.Equal(MppeDropReason.OutOfWindow, decryptor.LastDropReason);
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[187]));
    }

    [Fact]
    public void Stateless_long_jumps_draw_on_a_key_change_budget_that_refills_with_time()
    {
        var random = new Random(21);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: true);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: true, time: time);
        var frames = new List<byte[]>();
        for (var n = 0; n < 4096 + 2600; n++)
        {
            var frame = Plain(random, 20);
            encryptor.Encrypt(frame);
            frames.Add(frame);
        }

        // A real burst of 300 lost packets resynchronises at once (301 steps from the start count 4095).
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[300]));
        // Forged-looking jumps of 2048: the budget (4096 key changes a second) covers one more, then they are refused.
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[300 + 2048]));
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt(frames[300 + 4096]));
        Assert.Equal(MppeDropReason.KeyChangeBudget, decryptor.LastDropReason);
        Assert.Equal(1, decryptor.DroppedPackets(MppeDropReason.KeyChangeBudget));
        // Ordinary traffic is never held back by the budget.
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[300 + 2049]));
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[300 + 2049 + 200]));
        // Half a second later half the budget is back: a 2000-count step passes again.
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frames[300 + 2049 + 200 + 2000]));
    }

    [Theory]
    [InlineData(MppeKeyStrength.Bits40, 10, 1)]
    [InlineData(MppeKeyStrength.Bits128, 10, 1)]
    [InlineData(MppeKeyStrength.Bits128, 250, 10)]   // the lost packets include the flag packet 0FF
    [InlineData(MppeKeyStrength.Bits56, 100, 700)]   // several flag packets lost
    [InlineData(MppeKeyStrength.Bits128, 255, 1)]    // exactly the flag packet lost
    public void Stateful_loss_asks_for_a_reset_and_resynchronises_after_it(MppeKeyStrength strength, int lossAt, int lost)
    {
        var random = new Random(13);
        using var encryptor = new MppeEncryptor(StartKey, strength, stateless: false);
        using var decryptor = new MppeDecryptor(StartKey, strength, stateless: false);

        byte[] Send(out byte[] plain) => Encrypted(encryptor, random, 30, out plain);

        for (var n = 0; n < lossAt; n++)
        {
            Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(Send(out _)));
        }
        for (var n = 0; n < lost; n++)
        {
            Send(out _);
        }

        var afterGap = Send(out _);
        // Even when the first packet after the gap is a flushed flag packet, a gap is loss (as Linux).
        Assert.Equal(MppeDecryptStatus.SendResetRequest, decryptor.Decrypt(afterGap));
        Assert.True(decryptor.AwaitingFlush);
        Assert.Equal(MppeDropReason.PacketLoss, decryptor.LastDropReason);

        // Until the peer reacts, each packet is dropped and asks for the reset again (CCP sends none while one
        // is outstanding; once its repeats ran out, this is what asks again).
        var stale = Send(out _);
        if ((MppeHeader.CoherencyCount(stale) & 0xFF) != 0xFF)
        {
            Assert.Equal(MppeDecryptStatus.SendResetRequest, decryptor.Decrypt(stale));
            Assert.Equal(MppeDropReason.AwaitingFlush, decryptor.LastDropReason);
        }

        // The Reset-Request reaches the encryptor, twice (a lost Reset-Ack); still one flushed packet.
        encryptor.ResetRequested();
        encryptor.ResetRequested();
        for (var n = 0; n < 600; n++)
        {
            var frame = Send(out var plain);
            var status = decryptor.Decrypt(frame);
            if (decryptor.AwaitingFlush)
            {
                continue;
            }
            Assert.Equal(MppeDecryptStatus.Ok, status);
            Assert.Equal(plain[2..], frame[2..]);
        }
        Assert.False(decryptor.AwaitingFlush);
    }

    [Fact]
    public void Stateful_resynchronises_on_a_flag_packet_even_without_a_reset()
    {
        var random = new Random(14);
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        for (var n = 0; n < 600; n++)
        {
            var plain = Plain(random, 20);
            var frame = (byte[])plain.Clone();
            encryptor.Encrypt(frame);
            if (n == 5)
            {
                continue; // lost
            }

            var status = decryptor.Decrypt(frame);
            var count = MppeHeader.CoherencyCount(frame);
            if (count > 5 && count < 0xFF)
            {
                Assert.NotEqual(MppeDecryptStatus.Ok, status);
            }
            else
            {
                Assert.Equal(MppeDecryptStatus.Ok, status);
                Assert.Equal(plain[2..], frame[2..]);
            }
        }
    }

    /// <summary>
    /// Linux ppp_mppe's stateful sender as it behaves (drivers/net/ppp/ppp_mppe.c): the packet after a
    /// Reset-Request changes key and is flushed, whatever its count. A model of the peer our decryptor faces.
    /// </summary>
    private sealed class LinuxStatefulSender(byte[] startKey)
    {
        private readonly MppeCipherState _cipher = new(startKey, MppeKeyStrength.Bits128);
        private int _count = MppeHeader.CoherencyCountSpace - 1;
        private bool _resetPending;

        public void ResetRequested() => _resetPending = true;

        public byte[] Send(byte[] plain)
        {
            var frame = (byte[])plain.Clone();
            _count = (_count + 1) & 0x0FFF;
            var bits = MppeHeader.EncryptedBit;
            if ((_count & 0xFF) == 0xFF || _resetPending)
            {
                _cipher.Rekey();
                bits |= MppeHeader.FlushedBit;
                _resetPending = false;
            }
            MppeHeader.Write(frame, bits, _count);
            _cipher.Transform(frame.AsSpan(MppeHeader.Length));
            return frame;
        }
    }

    /// <summary>
    /// Linux ppp_mppe's stateful receiver as it behaves (RFC 3078 section 8.2): a gap discards until a flushed
    /// packet, then one key change per missed flag packet and one for the flush; whatever that decrypts to is
    /// handed up. A model of the peer our encryptor faces.
    /// </summary>
    private sealed class LinuxStatefulReceiver(byte[] startKey)
    {
        private readonly MppeCipherState _cipher = new(startKey, MppeKeyStrength.Bits128);
        private int _count = MppeHeader.CoherencyCountSpace - 1;
        private bool _skipKeyChange;

        public bool Discarding { get; private set; }

        /// <summary>Puts the model one key behind its sender (as an older sender's lost answer would).</summary>
        public void SkipNextKeyChange() => _skipKeyChange = true;

        /// <summary>Takes one frame; true when it decrypted to <paramref name="plain"/>.</summary>
        public bool Receive(byte[] frame, byte[] plain) => Receive(frame) && frame.AsSpan(2).SequenceEqual(plain.AsSpan(2));

        public bool Receive(byte[] frame)
        {
            var count = MppeHeader.CoherencyCount(frame);
            var flushed = (MppeHeader.Bits(frame) & MppeHeader.FlushedBit) != 0;
            if (!Discarding)
            {
                _count = (_count + 1) & 0x0FFF;
                if (count != _count)
                {
                    Discarding = true;
                    return false;
                }
            }
            else
            {
                if (!flushed)
                {
                    return false;
                }
                while ((count & ~0xFF) != (_count & ~0xFF))
                {
                    _cipher.AdvanceKey();
                    _count = (_count + 0x100) & 0x0FFF;
                }
                Discarding = false;
                _count = count;
            }
            if (flushed && !_skipKeyChange)
            {
                _cipher.Rekey();
            }
            else if (flushed)
            {
                _cipher.RestartCipher();
                _skipKeyChange = false;
            }
            _cipher.Transform(frame.AsSpan(MppeHeader.Length));
            return true;
        }
    }

    /// <summary>A Linux sender's lost answer to our Reset-Request: its later flush is one key further on.</summary>
    [Theory]
    [InlineData(true)]   // our Reset-Request repeats, and the peer answers it with another flushed packet
    [InlineData(false)]  // no repeat reaches the peer: its next flag packet (count xxFF) is the next flush
    public void Stateful_a_Linux_senders_lost_answer_to_a_reset_is_recovered_by_key_search(bool repeatedReset)
    {
        var random = new Random(15);
        var linux = new LinuxStatefulSender(StartKey);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        byte[] Send(out byte[] plain) => linux.Send(plain = Plain(random, 40));

        for (var n = 0; n < 20; n++)
        {
            Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(Send(out _)));
        }
        Send(out _); // lost
        Assert.Equal(MppeDecryptStatus.SendResetRequest, decryptor.Decrypt(Send(out _)));
        linux.ResetRequested();
        var answer = Send(out _); // the flushed answer, with a new key: lost too
        Assert.NotEqual(0, MppeHeader.Bits(answer) & MppeHeader.FlushedBit);
        if (repeatedReset)
        {
            linux.ResetRequested();
        }

        var delivered = 0;
        for (var n = 0; n < 300; n++)
        {
            var frame = Send(out var plain);
            var status = decryptor.Decrypt(frame);
            if (decryptor.AwaitingFlush)
            {
                continue;
            }
            Assert.Equal(MppeDecryptStatus.Ok, status);
            Assert.Equal(plain[2..], frame[2..]);
            delivered++;
        }
        Assert.InRange(delivered, 40, 300);
        Assert.Equal(1, decryptor.KeySearchRecoveries);
        Assert.Equal(0, decryptor.DroppedPackets(MppeDropReason.Undecryptable));
    }

    /// <summary>Our answers to a Linux receiver's Reset-Requests, lost or late in every way: it never falls a key behind.</summary>
    [Theory]
    [InlineData(new[] { 1 })]           // the answer is lost
    [InlineData(new[] { 1, 2 })]        // the answer and the answer to the repeated request are lost
    [InlineData(new[] { 0 })]           // the packet before the answer is lost: the answer arrives after a gap
    public void Stateful_answers_to_resets_are_flag_packets_so_a_Linux_receiver_never_falls_behind(int[] lost)
    {
        var random = new Random(19);
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        var linux = new LinuxStatefulReceiver(StartKey);
        bool Deliver(bool lose = false)
        {
            var frame = Encrypted(encryptor, random, 40, out var plain);
            return !lose && linux.Receive(frame, plain);
        }

        for (var n = 0; n < 10; n++)
        {
            Assert.True(Deliver());
        }
        Deliver(lose: true);
        Assert.False(Deliver()); // the gap: Linux discards and sends a Reset-Request
        Assert.True(linux.Discarding);
        // Each round: the request reaches us; then, in order, a packet (lost or not) and the answer (lost or not).
        for (var round = 0; round < 3 && linux.Discarding; round++)
        {
            if (lost.Contains(0) && round == 0)
            {
                Deliver(lose: true);
            }
            encryptor.ResetRequested();
            var answerLost = lost.Contains(round + 1);
            var answered = Deliver(lose: answerLost);
            Assert.Equal(!answerLost && !linux.Discarding, answered);
        }
        Assert.False(linux.Discarding);
        for (var n = 0; n < 300; n++)
        {
            Assert.True(Deliver());
        }
    }

    /// <summary>A Linux receiver one key behind (its Protocol-Rejects of garbage tell the layer): a hold catches it up.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the held flag packet is lost: the receiver counts it as a missed flag packet
    public void Stateful_a_Linux_receiver_one_key_behind_catches_up_on_a_held_flag_packet(bool heldLost)
    {
        var random = new Random(18);
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        var linux = new LinuxStatefulReceiver(StartKey);
        bool Deliver(bool lose = false)
        {
            var frame = Encrypted(encryptor, random, 40, out var plain);
            return !lose && linux.Receive(frame, plain);
        }

        Assert.True(Deliver());
        Deliver(lose: true);
        Assert.False(Deliver());
        encryptor.ResetRequested();
        linux.SkipNextKeyChange();
        for (var n = 0; n < 50; n++)
        {
            Assert.False(Deliver()); // one key apart: garbage, for good
        }
        Assert.False(linux.Discarding);

        encryptor.HoldKeyOnNextFlush();
        // The held flag packet jumps its count: a gap for Linux, which waits for a flush and asks for one (the
        // jump's block, counted as missed, is the key change Linux had missed).
        Assert.False(Deliver(lose: heldLost));
        if (heldLost)
        {
            Assert.False(Deliver());
        }
        Assert.True(linux.Discarding);
        encryptor.ResetRequested();
        for (var n = 0; n < 300; n++)
        {
            Assert.True(Deliver());
        }
        Assert.Equal(1, encryptor.KeyHolds);
    }

    [Fact]
    public void Stateful_a_flushed_packet_after_a_gap_resynchronises_at_once_and_a_held_key_is_followed()
    {
        var random = new Random(17);
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        byte[] Send(out byte[] plain) => Encrypted(encryptor, random, 40, out plain);

        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(Send(out _)));
        // A held flag packet: its count jumps (a gap) and it keeps the key; we take it without a reset.
        encryptor.HoldKeyOnNextFlush();
        var held = Send(out var plain);
        Assert.Equal(0xFF, MppeHeader.CoherencyCount(held) & 0xFF);
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(held));
        Assert.Equal(plain[2..], held[2..]);
        Assert.Equal(1, decryptor.GapsBridged);
        Assert.Equal(1, decryptor.HeldKeysFollowed);
        // An answer to a reset that was not needed (a repeated request): a gap again, bridged again.
        encryptor.ResetRequested();
        for (var n = 0; n < 300; n++)
        {
            var frame = Send(out plain);
            Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frame));
            Assert.Equal(plain[2..], frame[2..]);
        }
        Assert.Equal(2, decryptor.GapsBridged);
        Assert.Equal(0, decryptor.TotalDroppedPackets);
    }

    [Fact]
    public void Stateful_a_run_of_packets_that_decrypt_to_garbage_loses_sync_and_asks_for_a_reset()
    {
        var random = new Random(20);
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        byte[] Send()
        {
            var frame = Plain(random, 40);
            encryptor.Encrypt(frame);
            return frame;
        }

        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(Send()));
        // The next counts, unflushed, but not our key stream (what a sender whose key went its own way sends).
        var statuses = new List<MppeDecryptStatus>();
        for (var n = 0; n < MppeDecryptor.UndecryptableRunLimit; n++)
        {
            var frame = Send();
            random.NextBytes(frame.AsSpan(MppeHeader.Length));
            statuses.Add(decryptor.Decrypt(frame));
        }
        Assert.Equal(MppeDecryptStatus.SendResetRequest, statuses[^1]);
        Assert.All(statuses[..^1], s => Assert.Equal(MppeDecryptStatus.Dropped, s));
        Assert.True(decryptor.AwaitingFlush);
        Assert.Equal(MppeDecryptor.UndecryptableRunLimit, decryptor.DroppedPackets(MppeDropReason.Undecryptable));

        encryptor.ResetRequested();
        var answer = Send();
        var plain = (byte[])answer.Clone();
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(answer));
        Assert.Equal(0, decryptor.ConsecutiveFailedResyncs);
    }

    [Fact]
    public void Stateful_a_forged_flushed_packet_is_dropped_as_if_it_never_came()
    {
        var random = new Random(16);
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);
        byte[] Send(out byte[] plain) => Encrypted(encryptor, random, 40, out plain);
        byte[] Forged(int count)
        {
            var frame = new byte[44];
            random.NextBytes(frame);
            MppeHeader.Write(frame, MppeHeader.EncryptedBit | MppeHeader.FlushedBit, count);
            return frame;
        }

        for (var n = 0; n < 5; n++)
        {
            Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(Send(out _)));
        }
        // In sync: the next count, flushed, garbage. Dropped; the genuine packet with that count still decrypts.
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt(Forged(5)));
        Assert.Equal(MppeDropReason.Undecryptable, decryptor.LastDropReason);
        var genuine = Send(out var plain);
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(genuine));
        Assert.Equal(plain[2..], genuine[2..]);

        // Awaiting a flush: a forged one three 256-blocks ahead would make us step three flag-packet keys.
        Send(out _); // lost
        Assert.Equal(MppeDecryptStatus.SendResetRequest, decryptor.Decrypt(Send(out _)));
        Assert.Equal(MppeDecryptStatus.SendResetRequest, decryptor.Decrypt(Forged(0x310)));
        Assert.True(decryptor.AwaitingFlush);
        Assert.Equal(1, decryptor.ConsecutiveFailedResyncs);
        encryptor.ResetRequested();
        var flushed = Send(out plain);
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(flushed));
        Assert.Equal(plain[2..], flushed[2..]);
        Assert.Equal(0, decryptor.KeySearchRecoveries);
        Assert.Equal(0, decryptor.ConsecutiveFailedResyncs);
    }

    [Fact]
    public void Bad_headers_are_dropped_with_a_reason()
    {
        using var stateless = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: true);
        using var stateful = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: false);

        Assert.Equal(MppeDecryptStatus.Dropped, stateless.Decrypt([]));
        Assert.Equal(MppeDecryptStatus.Dropped, stateless.Decrypt([0x90]));
        Assert.Equal(MppeDecryptStatus.Dropped, stateless.Decrypt([0x90, 0x00]));
        Assert.Equal(3, stateless.DroppedPackets(MppeDropReason.TooShort));

        Assert.Equal(MppeDecryptStatus.Dropped, stateless.Decrypt([0xB0, 0x00, 1, 2]));
        Assert.Equal(MppeDropReason.Compressed, stateless.LastDropReason);
        Assert.Equal(MppeDecryptStatus.Dropped, stateless.Decrypt([0x80, 0x00, 1, 2]));
        Assert.Equal(MppeDropReason.NotEncrypted, stateless.LastDropReason);
        Assert.Equal(MppeDecryptStatus.Dropped, stateless.Decrypt([0x10, 0x00, 1, 2]));
        Assert.Equal(MppeDropReason.FlushedBitMissing, stateless.LastDropReason);

        Assert.Equal(MppeDecryptStatus.Dropped, stateful.Decrypt([0x10, 0xFF, 1, 2]));
        Assert.Equal(MppeDropReason.FlagPacketNotFlushed, stateful.LastDropReason);
        Assert.Equal(0, stateful.PacketsDecrypted);
    }

    [Fact]
    public void Encrypt_refuses_a_frame_without_payload()
    {
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: true);
        Assert.False(encryptor.Encrypt(new byte[2]));
        Assert.Equal(1, encryptor.RefusedFrames);
        Assert.Equal(4095, encryptor.CoherencyCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Encrypt_and_decrypt_allocate_nothing_per_packet(bool stateless)
    {
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless);
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless);
        var frame = new byte[1402];
        for (var n = 0; n < 10; n++)
        {
            encryptor.Encrypt(frame);
            decryptor.Decrypt(frame);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 1000; n++)
        {
            encryptor.Encrypt(frame);
            decryptor.Decrypt(frame);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
