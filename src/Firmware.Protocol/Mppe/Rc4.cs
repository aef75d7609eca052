using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firmware.Protocol.Mppe;

/// <summary>
/// The RC4 stream cipher over spans: one state, keyed with <see cref="Init"/>, then <see cref="Transform"/>
/// XORs the key stream into data in place (encrypting and decrypting are the same operation). A mutable
/// struct with its 256-entry table inline (1 KiB): keep it in a field and call it by reference, never copy it.
/// </summary>
public struct Rc4
{
    private Rc4Table _s;
    private uint _i;
    private uint _j;

    /// <summary>Runs the key schedule; <paramref name="key"/> is 1 to 256 bytes.</summary>
    public void Init(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(key), "An RC4 key is 1 to 256 bytes.");
        }

        // Indices are masked to 0..255 and the table has 256 entries, so the unchecked accesses below stay
        // inside it; the key index wraps at key.Length. This runs twice per MPPE key change.
        ref var s = ref MemoryMarshal.GetReference((Span<uint>)_s);
        ref var k = ref MemoryMarshal.GetReference(key);
        for (nint n = 0; n < 256; n++)
        {
            Unsafe.Add(ref s, n) = (uint)n;
        }

        uint j = 0;
        nint keyIndex = 0;
        nint keyLength = key.Length;
        for (nint i = 0; i < 256; i++)
        {
            var t = Unsafe.Add(ref s, i);
            j = (j + t + Unsafe.Add(ref k, keyIndex)) & 0xFF;
            Unsafe.Add(ref s, i) = Unsafe.Add(ref s, (nint)j);
            Unsafe.Add(ref s, (nint)j) = t;
            if (++keyIndex == keyLength)
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
        // 32-bit table entries (as OpenSSL's RC4_INT) avoid partial-register byte loads and stores; eight
        // key-stream bytes are gathered into one word so the data is read and written 8 bytes at a time.
        ref var s = ref MemoryMarshal.GetReference((Span<uint>)_s);
        ref var d = ref MemoryMarshal.GetReference(data);
        var i = _i;
        var j = _j;
        nint n = 0;
        nint length = data.Length;
        for (; n + 8 <= length; n += 8)
        {
            ulong stream = 0;
            for (var b = 0; b < 64; b += 8)
            {
                i = (i + 1) & 0xFF;
                var si = Unsafe.Add(ref s, (nint)i);
                j = (j + si) & 0xFF;
                var sj = Unsafe.Add(ref s, (nint)j);
                Unsafe.Add(ref s, (nint)i) = sj;
                Unsafe.Add(ref s, (nint)j) = si;
                stream |= (ulong)Unsafe.Add(ref s, (nint)((si + sj) & 0xFF)) << b;
            }

            ref var word = ref Unsafe.Add(ref d, n);
            Unsafe.WriteUnaligned(ref word, Unsafe.ReadUnaligned<ulong>(ref word) ^ (BitConverter.IsLittleEndian ? stream : BinaryPrimitives.ReverseEndianness(stream)));
        }

        for (; n < length; n++)
        {
            i = (i + 1) & 0xFF;
            var si = Unsafe.Add(ref s, (nint)i);
            j = (j + si) & 0xFF;
            var sj = Unsafe.Add(ref s, (nint)j);
            Unsafe.Add(ref s, (nint)i) = sj;
            Unsafe.Add(ref s, (nint)j) = si;
            Unsafe.Add(ref d, n) ^= (byte)Unsafe.Add(ref s, (nint)((si + sj) & 0xFF));
        }

        _i = i;
        _j = j;
    }

    /// <summary>Forgets the key schedule (the table is zeroed).</summary>
    public void Clear()
    {
        ((Span<uint>)_s).Clear();
        _i = 0;
        _j = 0;
    }

    [InlineArray(256)]
    private struct Rc4Table
    {
        private uint _element0;
    }
}
