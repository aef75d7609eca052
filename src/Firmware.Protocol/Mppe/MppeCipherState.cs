using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;

namespace Firmware.Protocol.Mppe;

/// <summary>
/// The keys and RC4 state of one direction: start key, current session key, and the key change of
/// RFC 3078 section 7.3. Everything is preallocated; rekeying allocates nothing.
/// </summary>
internal sealed class MppeCipherState
{
    private readonly byte[] _startKey;
    private readonly byte[] _sessionKey;
    private readonly Sha1Digest _sha = new();
    private Rc4 _rc4;
    private readonly byte[] _savedKey;
    private Rc4 _savedRc4;

    public MppeCipherState(ReadOnlySpan<byte> startKey, MppeKeyStrength strength)
    {
        Strength = strength;
        KeyLength = strength.KeyLength();
        if (startKey.Length < KeyLength)
        {
            throw new ArgumentException($"An MPPE {(int)strength}-bit start key needs at least {KeyLength} bytes.", nameof(startKey));
        }

        _startKey = startKey[..KeyLength].ToArray();
        _sessionKey = new byte[KeyLength];
        _savedKey = new byte[KeyLength];
        MppeKeyDerivation.GetInitialSessionKey(_startKey, strength, _sessionKey);
        _rc4.Init(_sessionKey);
    }

    public MppeKeyStrength Strength { get; }

    public int KeyLength { get; }

    /// <summary>The current session key (tests compare it with RFC vectors).</summary>
    public ReadOnlySpan<byte> SessionKey => _sessionKey;

    /// <summary>Rekeys on the key change schedule and restarts RC4 with the new session key.</summary>
    public void Rekey()
    {
        AdvanceKey();
        _rc4.Init(_sessionKey);
    }

    /// <summary>Changes the session key without restarting RC4 (several key changes in a row).</summary>
    public void AdvanceKey() =>
        MppeKeyDerivation.GetNextSessionKey(_sha, _startKey, _sessionKey, Strength, _sessionKey);

    /// <summary>Restarts RC4 with the current session key.</summary>
    public void RestartCipher() => _rc4.Init(_sessionKey);

    /// <summary>Restarts RC4 with a key from history (stateless late packets).</summary>
    public void RestartCipher(ReadOnlySpan<byte> sessionKey) => _rc4.Init(sessionKey);

    public void CopySessionKey(Span<byte> destination) => _sessionKey.CopyTo(destination);

    /// <summary>Sets the session key and restarts RC4 with it.</summary>
    public void SetSessionKey(ReadOnlySpan<byte> sessionKey)
    {
        sessionKey.CopyTo(_sessionKey);
        _rc4.Init(_sessionKey);
    }

    /// <summary>Remembers the session key and the RC4 state (1 KiB copied: for rare events, not per packet).</summary>
    public void Save()
    {
        _sessionKey.CopyTo(_savedKey);
        _savedRc4 = _rc4;
    }

    /// <summary>Goes back to what <see cref="Save"/> remembered.</summary>
    public void Restore()
    {
        _savedKey.CopyTo(_sessionKey);
        _rc4 = _savedRc4;
    }

    public void Transform(Span<byte> data) => _rc4.Transform(data);

    public void Clear()
    {
        CryptographicOperations.ZeroMemory(_startKey);
        CryptographicOperations.ZeroMemory(_sessionKey);
        CryptographicOperations.ZeroMemory(_savedKey);
        _rc4.Clear();
        _savedRc4.Clear();
    }
}
