namespace Firmware.Protocol.Ppp;

/// <summary>PPP protocol field values used by PPTP links (IANA "PPP DLL Protocol Numbers").</summary>
public enum PppProtocol : ushort
{
    /// <summary>Internet Protocol version 4.</summary>
    Ipv4 = 0x0021,
    /// <summary>Internet Protocol version 6.</summary>
    Ipv6 = 0x0057,
    /// <summary>Compressed datagram (MPPE-encrypted payload once CCP negotiated MPPE).</summary>
    CompressedDatagram = 0x00FD,
    /// <summary>IP Control Protocol (RFC 1332).</summary>
    Ipcp = 0x8021,
    /// <summary>IPv6 Control Protocol (RFC 5072).</summary>
    Ipv6cp = 0x8057,
    /// <summary>Compression Control Protocol (RFC 1962).</summary>
    Ccp = 0x80FD,
    /// <summary>Link Control Protocol (RFC 1661).</summary>
    Lcp = 0xC021,
    /// <summary>Password Authentication Protocol (RFC 1334).</summary>
    Pap = 0xC023,
    /// <summary>Challenge-Handshake Authentication Protocol (RFC 1994), also carrying MS-CHAP.</summary>
    Chap = 0xC223,
}
