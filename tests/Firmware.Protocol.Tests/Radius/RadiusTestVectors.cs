using Firmware.Protocol.Radius;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>Writes the attributes of a test answer.</summary>
internal delegate void AnswerAttributes(ref RadiusPacketWriter writer);

/// <summary>
/// Known answers. <see cref="Rfc2865"/> is RFC 2865 section 7.1's example (user "nemo", password
/// "arctangent", secret "xyzzy5461"). The others were computed independently with python3's hashlib and hmac,
/// not with our code:
/// <code>
/// import hashlib, hmac, struct
/// sec = b"s3cr3t-shared"; ra = bytes(range(16))
/// attr = lambda t, v: bytes([t, len(v) + 2]) + v
/// ms = lambda t, v: attr(26, struct.pack(">I", 311) + bytes([t, len(v) + 2]) + v)
/// pkt = lambda code, ident, auth, a: bytes([code, ident]) + struct.pack(">H", 20 + len(a)) + auth + a
/// # Access-Request: p = pkt(1, 0x2a, ra, attr(1, b"alice") + attr(80, bytes(16)));
/// #   p[:-16] + hmac.new(sec, p, hashlib.md5).digest()
/// # MPPE key (RFC 2548 2.4.2): plain = [len(key)] + key, zero-padded to 16; b1 = md5(sec + ra + salt),
/// #   c_i = plain_i ^ b_i, b_(i+1) = md5(sec + c_i); value = salt + c
/// #   keys: sha1(b"send")[:16] with salt 0x8123, sha1(b"recv")[:16] with salt 0x8456
/// # Access-Accept id 0x2a: ms(16, send) + ms(17, recv) + attr(80, zeros), MA = hmac over it with ra in the
/// #   authenticator field, then authenticator = md5(packet + sec)
/// # Accounting-Request id 7: attr(40, uint32 1) + attr(44, b"s1"), authenticator = md5(packet with 16 zeros + sec)
/// # User-Password b"a 20-byte password!!" (two blocks) with sec and ra
/// </code>
/// </summary>
internal static class RadiusTestVectors
{
    public static void EncryptKey(ref RadiusPacketWriter writer, MicrosoftAttributeType type, byte[] key, ushort salt)
    {
        var value = writer.ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)type, RadiusAttributeCrypto.EncryptedMppeKeyLength(key.Length));
        RadiusAttributeCrypto.EncryptMppeKey(key, salt, Secret, RequestAuthenticator, value);
    }

    /// <summary>An answer to a request with <see cref="RequestAuthenticator"/> as a server signs it with <see cref="Secret"/>: Message-Authenticator (last, by default) and Response Authenticator.</summary>
    public static byte[] Answer(RadiusCode code, byte identifier, AnswerAttributes attributes, bool messageAuthenticator = true)
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var writer = new RadiusPacketWriter(buffer, code, identifier, default);
        attributes(ref writer);
        if (messageAuthenticator)
        {
            writer.AddMessageAuthenticator();
        }
        var length = writer.Finish();
        Assert.True(length > 0);
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), Secret, RequestAuthenticator));
        return buffer[..length];
    }

    /// <summary>RFC 2759 section 9.2's MS-CHAPv2 example: user "User", password "clientPass".</summary>
    public static class Rfc2759
    {
        public static byte[] AuthenticatorChallenge => Hex("5B5D7C7D7B3F2F3E3C2C602132262628");

        public static byte[] PeerChallenge => Hex("21402324255E262A28295F2B3A337C7E");

        public static byte[] NtResponse => Hex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
    }

    public static class Rfc2865
    {
        public static byte[] Secret => "xyzzy5461"u8.ToArray();

        public static byte[] RequestAuthenticator => Hex("0f403f9473978057bd83d5cb98f4227a");

        /// <summary>Access-Request: User-Name "nemo", User-Password, NAS-IP-Address 192.168.1.16, NAS-Port 3.</summary>
        public static byte[] AccessRequest => Hex(
            "01000038 0f403f9473978057bd83d5cb98f4227a 01066e656d6f 02120dbe708d93d413ce3196e43f782a0aee"
            + "0406c0a80110 050600000003");

        /// <summary>Access-Accept: Service-Type Login, Login-Service Telnet, Login-IP-Host 192.168.1.3.</summary>
        public static byte[] AccessAccept => Hex(
            "02000026 86fe220e7624ba2a1005f6bf9b55e0b2 060600000001 0f0600000000 0e06c0a80103");
    }

    public static byte[] Secret => "s3cr3t-shared"u8.ToArray();

    public static byte[] RequestAuthenticator => Hex("000102030405060708090a0b0c0d0e0f");

    public static byte[] AccessRequestWithMessageAuthenticator => Hex(
        "012a002d 000102030405060708090a0b0c0d0e0f 0107616c696365 501262c4d8b69d5568a2df77793603639df1");

    public static byte[] SendKey => Hex("37ed539c0cef13959abd980bebf30f49");

    public static byte[] RecvKey => Hex("3b3cea7ab5b6598258360321d292b1bd");

    public static byte[] EncryptedSendKey => Hex("8123a70eb86e70ace13f6e9408d00ca3de9836868cd29647c445be72d42f7837b2c0");

    public static byte[] AccessAcceptWithKeys => Hex(
        "022a007a756c5d3c9192dad3a88445ff2392826a1a2a0000013710248123a70eb86e70ace13f6e9408d00ca3de9836868cd2"
        + "9647c445be72d42f7837b2c01a2a0000013711248456ba5e78d9dbb920f04f100e2bac62722be929bfbf31b6fe53b47df6e8"
        + "c746877f5012287704a3fe1f0890d14c2535f6feccfc");

    public static byte[] AccountingRequest => Hex("0407001ed3b2d8fb04ac6992f6ab38b81e870d322806000000012c047331");

    public static byte[] TwoBlockPassword => "a 20-byte password!!"u8.ToArray();

    public static byte[] TwoBlockPasswordHidden => Hex("f3c42ff70dbe1b82b75fe92b6574298bce0db853eaea4ca3281c5dc016e4f35f");

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}
