using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Firmware.Protocol.Mppe;

/// <summary>
/// The RFC 3078 section 7.3 key change of one direction, the same function as
/// <see cref="MppeKeyDerivation.GetNextSessionKey(ReadOnlySpan{byte}, ReadOnlySpan{byte}, MppeKeyStrength, Span{byte})"/>,
/// made for the stateless mode, which runs it for every packet.
/// </summary>
/// <remarks>
/// Its SHA-1 is written here, not taken from BouncyCastle (which <see cref="MppeKeyDerivation"/> uses for
/// everything else), because the message never changes shape: StartKey | 40 × 00 | SessionKey | 40 × F2, two
/// blocks in which only the session key's 8 or 16 bytes differ from one key change to the next. The padded
/// message is laid out once per direction and the first ten rounds, which see only the start key and the
/// zeros, are run once; a key change then hashes without buffering (<c>MppeKeyChangeBenchmarks</c> compares
/// the two). Tests hold it to the BouncyCastle version on long key chains of every strength.
/// </remarks>
internal sealed class MppeKeyChange
{
    private const int BlockLength = 64;
    private const int PadLength = 40;
    private const int PrecomputedRounds = 10;

    private readonly MppeKeyStrength _strength;
    private readonly int _keyLength;
    private readonly int _sessionKeyOffset;
    // The padded two-block message with the session key's place left to each call.
    private readonly byte[] _message = new byte[2 * BlockLength];
    // The state after the first ten rounds of block 1: its words 0-9 hold only the start key and the zeros.
    private readonly uint[] _prefixState = new uint[5];
    private Rc4 _rc4;

    public MppeKeyChange(ReadOnlySpan<byte> startKey, MppeKeyStrength strength)
    {
        _strength = strength;
        _keyLength = strength.KeyLength();
        if (startKey.Length < _keyLength)
        {
            throw new ArgumentException($"An MPPE {(int)strength}-bit start key needs at least {_keyLength} bytes.", nameof(startKey));
        }

        _sessionKeyOffset = _keyLength + PadLength;
        var messageLength = _sessionKeyOffset + _keyLength + PadLength;
        startKey[.._keyLength].CopyTo(_message);
        _message.AsSpan(_sessionKeyOffset + _keyLength, PadLength).Fill(0xF2);
        _message[messageLength] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(_message.AsSpan(_message.Length - 8), (ulong)messageLength * 8);

        Span<uint> w = stackalloc uint[80];
        Expand(_message.AsSpan(0, BlockLength), w);
        uint a = H0, b = H1, c = H2, d = H3, e = H4;
        Rounds(w, 0, PrecomputedRounds, ref a, ref b, ref c, ref d, ref e);
        _prefixState[0] = a;
        _prefixState[1] = b;
        _prefixState[2] = c;
        _prefixState[3] = d;
        _prefixState[4] = e;
        w.Clear();
    }

    /// <summary>
    /// InterimKey = GetNewKeyFromSHA(StartKey, <paramref name="sessionKey"/>); <paramref name="nextSessionKey"/>
    /// = InterimKey RC4-encrypted under itself, reduced to the strength. The two spans may be the same.
    /// </summary>
    public void Next(ReadOnlySpan<byte> sessionKey, Span<byte> nextSessionKey)
    {
        var next = nextSessionKey[.._keyLength];
        Span<byte> digest = stackalloc byte[20];
        HashWithSessionKey(sessionKey[.._keyLength], digest);
        digest[.._keyLength].CopyTo(next);
        CryptographicOperations.ZeroMemory(digest);
        _rc4.Init(next);
        _rc4.Transform(next);
        MppeKeyDerivation.ReduceKeyStrength(next, _strength);
    }

    /// <summary>Forgets the start key and the last key change.</summary>
    public void Clear()
    {
        CryptographicOperations.ZeroMemory(_message);
        ((Span<uint>)_prefixState).Clear();
        _rc4.Clear();
    }

    private void HashWithSessionKey(ReadOnlySpan<byte> sessionKey, Span<byte> digest)
    {
        sessionKey.CopyTo(_message.AsSpan(_sessionKeyOffset));
        Span<uint> w = stackalloc uint[80];

        Expand(_message.AsSpan(0, BlockLength), w);
        uint a = _prefixState[0], b = _prefixState[1], c = _prefixState[2], d = _prefixState[3], e = _prefixState[4];
        Rounds(w, PrecomputedRounds, 80, ref a, ref b, ref c, ref d, ref e);
        uint h0 = H0 + a, h1 = H1 + b, h2 = H2 + c, h3 = H3 + d, h4 = H4 + e;

        Expand(_message.AsSpan(BlockLength, BlockLength), w);
        a = h0;
        b = h1;
        c = h2;
        d = h3;
        e = h4;
        Rounds(w, 0, 80, ref a, ref b, ref c, ref d, ref e);
        BinaryPrimitives.WriteUInt32BigEndian(digest, h0 + a);
        BinaryPrimitives.WriteUInt32BigEndian(digest[4..], h1 + b);
        BinaryPrimitives.WriteUInt32BigEndian(digest[8..], h2 + c);
        BinaryPrimitives.WriteUInt32BigEndian(digest[12..], h3 + d);
        BinaryPrimitives.WriteUInt32BigEndian(digest[16..], h4 + e);

        // The session key is the secret here; the schedule words hold it too.
        _message.AsSpan(_sessionKeyOffset, sessionKey.Length).Clear();
        w.Clear();
    }

    private const uint H0 = 0x67452301;
    private const uint H1 = 0xEFCDAB89;
    private const uint H2 = 0x98BADCFE;
    private const uint H3 = 0x10325476;
    private const uint H4 = 0xC3D2E1F0;

    // FIPS 180-4 section 6.1.2 step 1: the 80-word message schedule of one block.
    private static void Expand(ReadOnlySpan<byte> block, Span<uint> w)
    {
        for (var t = 0; t < 16; t++)
        {
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(4 * t)..]);
        }
        for (var t = 16; t < 80; t++)
        {
            w[t] = BitOperations.RotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        }
    }

    // Rounds [from, to) of FIPS 180-4 section 6.1.2 step 3; from and to are multiples of five.
    private static void Rounds(ReadOnlySpan<uint> w, int from, int to, ref uint a, ref uint b, ref uint c, ref uint d, ref uint e)
    {
        Phase<Choose>(w, from, Math.Min(to, 20), 0x5A827999, ref a, ref b, ref c, ref d, ref e);
        Phase<Parity>(w, Math.Max(from, 20), Math.Min(to, 40), 0x6ED9EBA1, ref a, ref b, ref c, ref d, ref e);
        Phase<Majority>(w, Math.Max(from, 40), Math.Min(to, 60), 0x8F1BBCDC, ref a, ref b, ref c, ref d, ref e);
        Phase<Parity>(w, Math.Max(from, 60), to, 0xCA62C1D6, ref a, ref b, ref c, ref d, ref e);
    }

    // Five rounds per pass with the variables renamed instead of shifted; the struct type argument makes the
    // compiler emit one loop per round function.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Phase<TFunction>(ReadOnlySpan<uint> w, int from, int to, uint k, ref uint a, ref uint b, ref uint c, ref uint d, ref uint e)
        where TFunction : struct, IRoundFunction
    {
        for (var t = from; t < to; t += 5)
        {
            e += BitOperations.RotateLeft(a, 5) + TFunction.Apply(b, c, d) + w[t] + k;
            b = BitOperations.RotateLeft(b, 30);
            d += BitOperations.RotateLeft(e, 5) + TFunction.Apply(a, b, c) + w[t + 1] + k;
            a = BitOperations.RotateLeft(a, 30);
            c += BitOperations.RotateLeft(d, 5) + TFunction.Apply(e, a, b) + w[t + 2] + k;
            e = BitOperations.RotateLeft(e, 30);
            b += BitOperations.RotateLeft(c, 5) + TFunction.Apply(d, e, a) + w[t + 3] + k;
            d = BitOperations.RotateLeft(d, 30);
            a += BitOperations.RotateLeft(b, 5) + TFunction.Apply(c, d, e) + w[t + 4] + k;
            c = BitOperations.RotateLeft(c, 30);
        }
    }

    private interface IRoundFunction
    {
        static abstract uint Apply(uint x, uint y, uint z);
    }

    private readonly struct Choose : IRoundFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Apply(uint x, uint y, uint z) => z ^ (x & (y ^ z));
    }

    private readonly struct Parity : IRoundFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Apply(uint x, uint y, uint z) => x ^ y ^ z;
    }

    private readonly struct Majority : IRoundFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Apply(uint x, uint y, uint z) => (x & y) | (z & (x | y));
    }
}
