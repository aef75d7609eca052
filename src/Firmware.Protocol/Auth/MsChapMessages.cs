using System.Globalization;
using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>A parsed MS-CHAP Failure message: "E=eeee R=r C=cccc V=vvvv M=text" (RFC 2433 / RFC 2759).</summary>
internal sealed class MsChapFailure
{
    /// <summary>RFC 2433: restricted logon hours.</summary>
    public const int RestrictedLogonHours = 646;
    /// <summary>RFC 2433: account disabled.</summary>
    public const int AccountDisabled = 647;
    /// <summary>RFC 2433: password expired (the peer may then change it; we do not support that).</summary>
    public const int PasswordExpired = 648;
    /// <summary>RFC 2433: no dial-in permission.</summary>
    public const int NoDialInPermission = 649;
    /// <summary>RFC 2433: authentication failure.</summary>
    public const int AuthenticationFailure = 691;
    /// <summary>RFC 2433: error changing password.</summary>
    public const int ChangingPasswordError = 709;

    public int Error { get; private init; }

    public bool RetryAllowed { get; private init; }

    public byte[]? NextChallenge { get; private init; }

    public string Message { get; private init; } = "";

    /// <summary>Formats the message an authenticator sends. <paramref name="nextChallenge"/> is the C= value (retry challenge).</summary>
    public static byte[] Format(AuthMethod method, int error, bool retry, ReadOnlySpan<byte> nextChallenge, string message)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"E={error} R={(retry ? 1 : 0)}");
        if (!nextChallenge.IsEmpty)
        {
            text.Append(" C=").Append(Convert.ToHexString(nextChallenge));
        }
        if (method == AuthMethod.MsChapV2)
        {
            text.Append(" V=3 M=").Append(message);
        }
        else
        {
            text.Append(" V=0");
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Parses the fields we use; unknown fields are skipped, a missing E= means 691.</summary>
    public static MsChapFailure Parse(ReadOnlySpan<byte> messageBytes, int challengeLength)
    {
        var text = Encoding.ASCII.GetString(messageBytes[..Math.Min(messageBytes.Length, 1024)]);
        var message = "";
        var mIndex = text.StartsWith("M=", StringComparison.Ordinal) ? 0 : text.IndexOf(" M=", StringComparison.Ordinal);
        if (mIndex >= 0)
        {
            message = text[(mIndex == 0 ? 2 : mIndex + 3)..];
            text = text[..mIndex];
        }

        var error = AuthenticationFailure;
        var retry = false;
        byte[]? challenge = null;
        foreach (var field in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (field.StartsWith("E=", StringComparison.Ordinal)
                && int.TryParse(field.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var e))
            {
                error = e;
            }
            else if (field.StartsWith("R=", StringComparison.Ordinal))
            {
                retry = field == "R=1";
            }
            else if (field.StartsWith("C=", StringComparison.Ordinal))
            {
                var bytes = new byte[challengeLength];
                challenge = MsChapCrypto.TryParseHex(Encoding.ASCII.GetBytes(field[2..]), bytes) ? bytes : null;
            }
        }

        return new MsChapFailure
        {
            Error = error,
            RetryAllowed = retry,
            NextChallenge = challenge,
            Message = Sanitize(message),
        };
    }

    public static string Describe(int error) => error switch
    {
        RestrictedLogonHours => "restricted logon hours",
        AccountDisabled => "account disabled",
        PasswordExpired => "password expired",
        NoDialInPermission => "no dial-in permission",
        AuthenticationFailure => "authentication failure",
        ChangingPasswordError => "error changing password",
        _ => "unknown error",
    };

    private static string Sanitize(string s)
    {
        var chars = s.Length > 255 ? s[..255].ToCharArray() : s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]))
            {
                chars[i] = '?';
            }
        }
        return new string(chars);
    }
}
