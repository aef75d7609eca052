using BenchmarkDotNet.Attributes;
using Firmware.Protocol.Mppe;

namespace Benchmarks;

/// <summary>
/// MPPE-128 stateless (the default policy) per-packet cost: encrypt and decrypt in place, each with its key
/// change (SHA-1 + RC4 key schedule) and the RC4 pass. Goal: no allocation per packet.
/// </summary>
[MemoryDiagnoser]
public class MppeBenchmarks
{
    private static readonly byte[] StartKey = Convert.FromHexString("8B7CDC149B993A1BA118CB153F56DCCB");
    private MppeEncryptor _encryptor = null!;
    private MppeDecryptor _decryptor = null!;
    private MppeEncryptor _peerEncryptor = null!;
    private byte[] _frame = [];
    private byte[][] _ciphertexts = [];
    private int _next;

    /// <summary>Payload bytes after the 2-byte MPPE header (PPP protocol field + IP packet).</summary>
    [Params(64, 1400)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _encryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: true);
        _peerEncryptor = new MppeEncryptor(StartKey, MppeKeyStrength.Bits128, stateless: true);
        _decryptor = new MppeDecryptor(StartKey, MppeKeyStrength.Bits128, stateless: true);
        _frame = new byte[MppeHeader.Length + PayloadBytes];
        // A ring of consecutive ciphertexts so every decrypt is a fresh, in-order packet (one key change).
        _ciphertexts = new byte[4096][];
        for (var i = 0; i < _ciphertexts.Length; i++)
        {
            _ciphertexts[i] = new byte[MppeHeader.Length + PayloadBytes];
            _peerEncryptor.Encrypt(_ciphertexts[i]);
        }
    }

    [Benchmark]
    public bool Encrypt() => _encryptor.Encrypt(_frame);

    [Benchmark]
    public MppeDecryptStatus Decrypt()
    {
        // Decrypting in place changes the buffer, but a stateless decrypt of count n only depends on
        // the header; the ring wraps after 4096 packets exactly like the coherency count.
        var frame = _ciphertexts[_next];
        _next = (_next + 1) & 4095;
        return _decryptor.Decrypt(frame);
    }
}

/// <summary>Raw RC4 throughput, to compare with <c>openssl speed -evp rc4</c>.</summary>
[MemoryDiagnoser]
public class Rc4Benchmarks
{
    private Rc4 _rc4;
    private byte[] _data = [];

    [Params(64, 1400, 8192)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rc4.Init(Convert.FromHexString("8B7CDC149B993A1BA118CB153F56DCCB"));
        _data = new byte[Bytes];
    }

    [Benchmark]
    public void Transform() => _rc4.Transform(_data);
}

/// <summary>The parts of one MPPE key change: the RC4 key schedule and SHA-1 (BouncyCastle vs the OS).</summary>
[MemoryDiagnoser]
public class MppeKeyChangeBenchmarks
{
    private static readonly byte[] StartKey = Convert.FromHexString("8B7CDC149B993A1BA118CB153F56DCCB");
    private readonly byte[] _session = Convert.FromHexString("405CB2247A7956E6E211007AE27B22D4");
    private readonly byte[] _next = new byte[16];
    private readonly byte[] _input = new byte[112];
    private readonly byte[] _digest = new byte[20];
    private readonly Org.BouncyCastle.Crypto.Digests.Sha1Digest _sha = new();
    private Rc4 _rc4;

    [Benchmark]
    public void Rc4KeySchedule() => _rc4.Init(StartKey);

    [Benchmark]
    public void Sha1BouncyCastle()
    {
        _sha.Reset();
        _sha.BlockUpdate(_input);
        _sha.DoFinal(_digest);
    }

    [Benchmark]
    public int Sha1System() => System.Security.Cryptography.SHA1.HashData(_input, _digest);

    [Benchmark]
    public void WholeKeyChange() => MppeKeyDerivation.GetNextSessionKey(StartKey, _session, MppeKeyStrength.Bits128, _next);
}
