namespace Firmware.Protocol.Pptp;

/// <summary>
/// The fixed-size ASCII fields of PPTP control messages (host name, vendor, phone numbers, call statistics):
/// written NUL padded, read up to the first NUL. Peers are untrusted, so anything outside printable ASCII is
/// read back as '?' rather than passed on to logs or status output.
/// </summary>
public static class PptpFixedString
{
    /// <summary>Size of host name, vendor, phone number and subaddress fields.</summary>
    public const int FieldLength = 64;

    /// <summary>Size of the Call-Disconnect-Notify call statistics field.</summary>
    public const int CallStatisticsLength = 128;

    /// <summary>Writes <paramref name="value"/> into <paramref name="field"/>, truncating and NUL padding;
    /// characters outside printable ASCII become '?'. Returns the number of text bytes written.</summary>
    public static int Write(Span<byte> field, string? value)
    {
        field.Clear();
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }
        var count = Math.Min(value.Length, field.Length);
        for (var i = 0; i < count; i++)
        {
            var c = value[i];
            field[i] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
        }
        return count;
    }

    /// <summary>Reads a field up to its first NUL (or its end); non-printable bytes become '?'.</summary>
    public static string Read(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        if (end >= 0)
        {
            field = field[..end];
        }
        if (field.IsEmpty)
        {
            return string.Empty;
        }
        Span<char> chars = stackalloc char[field.Length];
        for (var i = 0; i < field.Length; i++)
        {
            var b = field[i];
            chars[i] = b is >= 0x20 and <= 0x7E ? (char)b : '?';
        }
        return new string(chars);
    }
}
