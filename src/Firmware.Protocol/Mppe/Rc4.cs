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
        // inside it; the key index wraps at key.Length. This runs twice per MPPE key change, so MPPE's keys
        // (8 and 16 bytes, powers of two) take a path that masks the key index and does four steps a pass.
        IdentityTable.CopyTo((Span<uint>)_s);
        ref var s = ref MemoryMarshal.GetReference((Span<uint>)_s);
        ref var k = ref MemoryMarshal.GetReference(key);
        uint j = 0;
        nint keyLength = key.Length;
        if ((keyLength & (keyLength - 1)) == 0)
        {
            var keyMask = keyLength - 1;
            for (nint i = 0; i < 256; i += 4)
            {
                KeyStep(ref s, ref j, i, Unsafe.Add(ref k, i & keyMask));
                KeyStep(ref s, ref j, i + 1, Unsafe.Add(ref k, (i + 1) & keyMask));
                KeyStep(ref s, ref j, i + 2, Unsafe.Add(ref k, (i + 2) & keyMask));
                KeyStep(ref s, ref j, i + 3, Unsafe.Add(ref k, (i + 3) & keyMask));
            }
        }
        else
        {
            nint keyIndex = 0;
            for (nint i = 0; i < 256; i++)
            {
                KeyStep(ref s, ref j, i, Unsafe.Add(ref k, keyIndex));
                if (++keyIndex == keyLength)
                {
                    keyIndex = 0;
                }
            }
        }

        _i = 0;
        _j = 0;
    }

    // One step of the key schedule: j += S[i] + key byte, swap S[i] and S[j].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KeyStep(ref uint s, ref uint j, nint i, uint keyByte)
    {
        var t = Unsafe.Add(ref s, i);
        j = (j + t + keyByte) & 0xFF;
        Unsafe.Add(ref s, i) = Unsafe.Add(ref s, (nint)j);
        Unsafe.Add(ref s, (nint)j) = t;
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

    private static readonly uint[] IdentityTable = CreateIdentity();

    private static uint[] CreateIdentity()
    {
        var table = new uint[256];
        for (var n = 0; n < table.Length; n++)
        {
            table[n] = (uint)n;
        }
        return table;
    }

    [InlineArray(256)]
    private struct Rc4Table
    {
        private uint _element0;
    }
}
