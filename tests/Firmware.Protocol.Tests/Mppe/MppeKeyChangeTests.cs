using Firmware.Protocol.Mppe;
using static Firmware.Protocol.Tests.Auth.TestHex;

namespace Firmware.Protocol.Tests.Mppe;

/// <summary>
/// The per-packet key change (its own SHA-1 over a message laid out once) against the RFC-shaped one built
/// on BouncyCastle's SHA-1 and RC4 (<see cref="MppeKeyDerivation.GetNextSessionKey"/>).
/// </summary>
public sealed class MppeKeyChangeTests
{
    [Theory]
    [InlineData(MppeKeyStrength.Bits40, 1)]
    [InlineData(MppeKeyStrength.Bits56, 2)]
    [InlineData(MppeKeyStrength.Bits128, 3)]
    [InlineData(MppeKeyStrength.Bits128, 4)]
    public void A_chain_of_key_changes_matches_the_rfc_shaped_one(MppeKeyStrength strength, int seed)
    {
        var random = new Random(seed);
        var startKey = new byte[16];
        random.NextBytes(startKey);
        var length = strength.KeyLength();
        var reference = new byte[length];
        MppeKeyDerivation.GetInitialSessionKey(startKey, strength, reference);
        var ours = (byte[])reference.Clone();
        var keyChange = new MppeKeyChange(startKey, strength);

        // A stateless link changes key for every packet: 4096 is one turn of the coherency count.
        for (var n = 0; n < 4096; n++)
        {
            MppeKeyDerivation.GetNextSessionKey(startKey, reference, strength, reference);
            keyChange.Next(ours, ours);
            Assert.True(reference.AsSpan().SequenceEqual(ours), $"key change {n + 1}: {Hex(ours)}, expected {Hex(reference)}");
        }
    }

    [Fact]
    public void Rfc3078_7_3_key_change_of_a_known_key()
    {
        // The vector of MppeKeyDerivationTests.Key_change_follows_rfc3078_7_3, computed there from BouncyCastle.
        var start = Bytes("8B7CDC149B993A1BA118CB153F56DCCB");
        var session = Bytes("405CB2247A7956E6E211007AE27B22D4");
        var expected = new byte[16];
        MppeKeyDerivation.GetNextSessionKey(start, session, MppeKeyStrength.Bits128, expected);

        var next = new byte[16];
        new MppeKeyChange(start, MppeKeyStrength.Bits128).Next(session, next);

        Assert.Equal(Hex(expected), Hex(next));
        Assert.NotEqual(Hex(session), Hex(next));
    }

    [Fact]
    public void A_start_key_shorter_than_the_strength_is_refused() =>
        Assert.Throws<ArgumentException>(() => new MppeKeyChange(new byte[8], MppeKeyStrength.Bits128));
}
