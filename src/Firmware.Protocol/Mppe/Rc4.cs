using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firmware.Protocol.Mppe;

/// <summary>
/// The RC4 stream cipher over spans: one state, keyed with <see cref="Init"/>, then <see cref="Transform"/>
/// XORs the key stream into data in place (encrypting and decrypting are the same operation). A mutable
/// struct with its 256-byte table inline: keep it in a field and call it by reference, never copy it.
/// </summary>
public struct Rc4
{
    private Rc4Table _s;
    private byte _i;
    private byte _j;

    /// <summary>Runs the key schedule; <paramref name="key"/> is 1 to 256 bytes.</summary>
    public void Init(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(key), "An RC4 key is 1 to 256 bytes.");
        }

        Span<byte> s = _s;
        for (var k = 0; k < 256; k++)
        {
            s[k] = (byte)k;
        }

        var j = 0;
        var keyIndex = 0;
        for (var i = 0; i < 256; i++)
        {
            var t = s[i];
            j = (j + t + key[keyIndex]) & 0xFF;
            s[i] = s[j];
            s[j] = t;
            if (++keyIndex == key.Length)
            {
                keyIndex = 0;
            }
        }

        _i = 0;
        _j = 0;
    }

    /// <summary>XORs the next <c>data.Length</c> key-stream bytes into <paramref name="data"/>.</summary>
    public void Transform(Span<byte> data)
    {
        // The indices are masked to 0..255 and the table is 256 bytes, so the unchecked reads stay
        // inside it; this is the hot loop of every encrypted packet.
        ref var s = ref MemoryMarshal.GetReference((Span<byte>)_s);
        ref var d = ref MemoryMarshal.GetReference(data);
        uint i = _i;
        uint j = _j;
        for (nint n = 0; n < data.Length; n++)
        {
            i = (i + 1) & 0xFF;
            uint si = Unsafe.Add(ref s, (nint)i);
            j = (j + si) & 0xFF;
            uint sj = Unsafe.Add(ref s, (nint)j);
            Unsafe.Add(ref s, (nint)i) = (byte)sj;
            Unsafe.Add(ref s, (nint)j) = (byte)si;
            Unsafe.Add(ref d, n) ^= Unsafe.Add(ref s, (nint)((si + sj) & 0xFF));
        }

        _i = (byte)i;
        _j = (byte)j;
    }

    /// <summary>Forgets the key schedule (the table is zeroed).</summary>
    public void Clear()
    {
        ((Span<byte>)_s).Clear();
        _i = 0;
        _j = 0;
    }

    [InlineArray(256)]
    private struct Rc4Table
    {
        private byte _element0;
    }
}
