namespace Firmware.Protocol.Tests.Auth;

internal static class TestHex
{
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
