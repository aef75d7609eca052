using System.Buffers.Binary;
using Firmware.Protocol.Auth;

namespace Firmware.Protocol.Ppp.Lcp;

/// <summary>The LCP Authentication-Protocol option value (RFC 1661 6.2, RFC 1994 3, RFC 2433/2759).</summary>
public static class AuthProtocolCodec
{
    /// <summary>Reads an option value; false for protocols or algorithms we do not implement.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> value, out AuthMethod method)
    {
        method = AuthMethod.None;
        if (value.Length < 2)
        {
            return false;
        }

        var protocol = (PppProtocol)BinaryPrimitives.ReadUInt16BigEndian(value);
        if (protocol == PppProtocol.Pap && value.Length == 2)
        {
            method = AuthMethod.Pap;
            return true;
        }

        if (protocol != PppProtocol.Chap || value.Length != 3)
        {
            return false;
        }

        return AuthMethods.TryFromChapAlgorithm(value[2], out method);
    }

    /// <summary>Writes the option value for <paramref name="method"/>; returns its length (2 or 3).</summary>
    public static int Write(AuthMethod method, Span<byte> value)
    {
        if (method == AuthMethod.Pap)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value, (ushort)PppProtocol.Pap);
            return 2;
        }

        BinaryPrimitives.WriteUInt16BigEndian(value, (ushort)PppProtocol.Chap);
        value[2] = AuthMethods.Of(method).ChapAlgorithm;
        return 3;
    }

    /// <summary>The name users know.</summary>
    public static string Describe(AuthMethod method) => AuthMethods.Describe(method);

    /// <summary>Describes a raw option value, including ones we do not implement.</summary>
    public static string Describe(ReadOnlySpan<byte> value)
    {
        if (TryDecode(value, out var method))
        {
            return Describe(method);
        }

        if (value.Length >= 3 && BinaryPrimitives.ReadUInt16BigEndian(value) == (ushort)PppProtocol.Chap)
        {
            return $"CHAP algorithm {value[2]}";
        }

        return value.Length >= 2 ? $"protocol 0x{BinaryPrimitives.ReadUInt16BigEndian(value):x4}" : "a malformed method";
    }

    /// <summary>"PAP, MS-CHAPv2" for a reason text.</summary>
    public static string Describe(IReadOnlyList<AuthMethod> methods) => string.Join(", ", methods.Select(Describe));
}
