using Firmware.Protocol.Mppe;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Firmware.Protocol.Tests.Mppe;

public sealed class Rc4Tests
{
    [Fact]
    public void Matches_bouncy_castle_on_random_keys_and_lengths()
    {
        var random = new Random(3078);
        for (var round = 0; round < 300; round++)
        {
            var key = new byte[random.Next(1, 257)];
            random.NextBytes(key);
            var oracle = new RC4Engine();
            oracle.Init(true, new KeyParameter(key));
            var ours = default(Rc4);
            ours.Init(key);

            // Several calls per key, so state carried between Transform calls is checked too.
            for (var chunk = 0; chunk < 3; chunk++)
            {
                var data = new byte[random.Next(0, 2000)];
                random.NextBytes(data);
                var expected = new byte[data.Length];
                oracle.ProcessBytes(data, 0, data.Length, expected, 0);
                ours.Transform(data);
                Assert.Equal(expected, data);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    [InlineData(5)]
    [InlineData(24)]
    public void Matches_bouncy_castle_for_key_lengths_of_both_key_schedule_paths(int keyLength)
    {
        // Powers of two (MPPE's 8 and 16 among them) take the masked, four-steps-a-pass key schedule.
        var random = new Random(keyLength);
        for (var round = 0; round < 20; round++)
        {
            var key = new byte[keyLength];
            random.NextBytes(key);
            var oracle = new RC4Engine();
            oracle.Init(true, new KeyParameter(key));
            var ours = default(Rc4);
            ours.Init(key);
            var data = new byte[600];
            random.NextBytes(data);
            var expected = new byte[data.Length];
            oracle.ProcessBytes(data, 0, data.Length, expected, 0);
            ours.Transform(data);
            Assert.Equal(expected, data);
        }
    }

    [Fact]
    public void Known_answer_key_Key_plaintext_Plaintext()
    {
        // The classic RC4 example: key "Key", "Plaintext" -> BBF316E8D940AF0AD3.
        var data = "Plaintext"u8.ToArray();
        var rc4 = default(Rc4);
        rc4.Init("Key"u8);
        rc4.Transform(data);
        Assert.Equal("BBF316E8D940AF0AD3", Convert.ToHexString(data));
    }

    [Fact]
    public void Transform_twice_with_the_same_key_restores_the_data()
    {
        var data = new byte[1500];
        new Random(1).NextBytes(data);
        var original = (byte[])data.Clone();
        var rc4 = default(Rc4);
        rc4.Init([1, 2, 3]);
        rc4.Transform(data);
        Assert.NotEqual(original, data);
        rc4.Init([1, 2, 3]);
        rc4.Transform(data);
        Assert.Equal(original, data);
    }

    [Fact]
    public void Empty_or_oversized_keys_are_refused()
    {
        var rc4 = default(Rc4);
        Assert.Throws<ArgumentOutOfRangeException>(() => rc4.Init([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => rc4.Init(new byte[257]));
    }
}
