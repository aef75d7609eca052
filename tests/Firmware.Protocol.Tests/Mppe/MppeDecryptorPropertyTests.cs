using CsCheck;
using Firmware.Protocol.Mppe;

namespace Firmware.Protocol.Tests.Mppe;

public sealed class MppeDecryptorPropertyTests
{
    private static readonly byte[] StartKey = Convert.FromHexString("8B7CDC149B993A1BA118CB153F56DCCB");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Random_frames_never_throw_and_never_write_past_the_frame(bool stateless)
    {
        // One decryptor carries state across samples, so they run on one thread.
        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless);
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var buffer = new byte[bytes.Length + 16];
            bytes.CopyTo(buffer, 0);
            buffer.AsSpan(bytes.Length).Fill(0xEE);
            var status = decryptor.Decrypt(buffer.AsSpan(0, bytes.Length));
            Assert.True(Enum.IsDefined(status));
            Assert.True(buffer.AsSpan(bytes.Length).IndexOfAnyExcept((byte)0xEE) < 0);
            Assert.Equal(status == MppeDecryptStatus.Ok, decryptor.LastDropReason == MppeDropReason.None);
        }, iter: 5000, threads: 1);
    }

    [Fact]
    public void Mutated_real_frames_never_throw()
    {
        using var encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits40, stateless: false);
        var frames = new List<byte[]>();
        for (var n = 0; n < 600; n++)
        {
            var frame = new byte[40];
            frame[3] = 0x21;
            encryptor.Encrypt(frame);
            frames.Add(frame);
        }

        using var decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits40, stateless: false);
        Gen.Int[0, frames.Count - 1].Select(Gen.Int[0, 39], Gen.Byte, Gen.Int[0, 40]).Sample((which, position, value, cut) =>
        {
            var frame = (byte[])frames[which].Clone();
            frame[position] = value;
            decryptor.Decrypt(frame.AsSpan(0, cut));
        }, iter: 5000, threads: 1);
        Assert.True(decryptor.TotalDroppedPackets > 0);
    }
}
