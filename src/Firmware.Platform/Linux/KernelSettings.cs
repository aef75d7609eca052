using System.ComponentModel;
using System.Diagnostics;

namespace Firmware.Platform.Linux;

/// <summary>
/// The kernel settings router mode changes: sysctl values (ip_forward) and nftables rules (NAT).
/// <see cref="LinuxKernelSettings"/> on Linux, <see cref="Testing.FakeKernelSettings"/> in tests.
/// </summary>
public interface IKernelSettings
{
    /// <summary>Writes a sysctl value and returns the previous one, so the caller can restore it.</summary>
    string WriteSysctl(string key, string value);

    /// <summary>Whether nftables can be used at all (the nft command is installed).</summary>
    bool HasNft { get; }

    /// <summary>Runs an nft script as one transaction; null on success, else what nft said.</summary>
    string? RunNft(string script);
}

/// <summary>/proc/sys and the nft command. Set up at start and removed at stop: never on a packet path.</summary>
public sealed class LinuxKernelSettings : IKernelSettings
{
    public string WriteSysctl(string key, string value) => Sysctl.Write(key, value);

    public bool HasNft => File.Exists("/usr/sbin/nft") || File.Exists("/sbin/nft") || File.Exists("/usr/bin/nft");

    public string? RunNft(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        try
        {
            using var nft = Process.Start(new ProcessStartInfo("nft", "-f -")
            {
                RedirectStandardInput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            nft.StandardInput.Write(script);
            nft.StandardInput.Close();
            var error = nft.StandardError.ReadToEnd();
            nft.WaitForExit(5000);
            return nft.ExitCode == 0 ? null : error.Trim();
        }
        catch (Win32Exception e)
        {
            return $"nft not available: {e.Message}";
        }
    }
}
