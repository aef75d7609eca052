using System.Diagnostics;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Package;

/// <summary>
/// The amd64 package installed, upgraded, removed and purged with dpkg in a minimal Debian root
/// (scripts/package-root, cached), on an overlay so the cached root never changes: the overlay's upper
/// layer is then exactly what the package left behind, and after purge that must be dpkg's own records.
/// </summary>
[Trait("Category", "Integration")]
[Collection(Integration.IntegrationCollection.Name)]
public sealed class DebianPackageInstallTests(ITestOutputHelper output)
{
    private const string Unit = "usr/lib/systemd/system/pptp-gateway.service";
    private const string EnabledLink = "etc/systemd/system/multi-user.target.wants/pptp-gateway.service";

    /// <summary>What dpkg itself keeps about a purged package: its database, logs and backups.</summary>
    private static readonly string[] DpkgRecords = ["var/lib/dpkg/", "var/log/dpkg.log", "var/log/apt/", "var/cache/debconf/", "var/log/alternatives.log"];

    [Fact]
    public void Install_upgrade_remove_and_purge_leave_no_stray_files()
    {
        Assert.True(Environment.IsPrivilegedProcess, "needs root (overlay mount, chroot)");
        var clock = Stopwatch.StartNew();
        var deb = DebianPackageTests.RequirePackage("amd64");
        var prepared = ProcessRunner.Run(Path.Combine(RepoPaths.Root, "scripts", "package-root"), [], TimeSpan.FromMinutes(15));
        Assert.True(prepared.ExitCode == 0, $"scripts/package-root failed: {prepared.Stderr}");
        var lower = prepared.Stdout.Trim();
        output.WriteLine($"root {lower} ready after {clock.Elapsed.TotalSeconds:0.0} s");

        var work = Directory.CreateTempSubdirectory("pgw-dpkg-");
        var upper = Directory.CreateDirectory(Path.Combine(work.FullName, "upper")).FullName;
        var merged = Directory.CreateDirectory(Path.Combine(work.FullName, "merged")).FullName;
        Directory.CreateDirectory(Path.Combine(work.FullName, "work"));
        var debs = Directory.CreateDirectory(Path.Combine(work.FullName, "debs")).FullName;
        Must("mount", "-t", "overlay", "overlay", "-o", $"lowerdir={lower},upperdir={upper},workdir={Path.Combine(work.FullName, "work")}", merged);
        try
        {
            // The packages stay outside the root: bound in read-only at /mnt.
            File.Copy(deb, Path.Combine(debs, "v1.deb"));
            var upgrade = MakeUpgrade(deb, Path.Combine(work.FullName, "repack"), Path.Combine(debs, "v2.deb"));
            Must("mount", "--bind", "-o", "ro", debs, Path.Combine(merged, "mnt"));
            try
            {
                Chroot(merged, "dpkg", "-i", "/mnt/v1.deb");
                Assert.True(File.Exists(Path.Combine(merged, "usr", "sbin", "pptp-gateway")));
                AssertEnabled(merged);
                Assert.Matches(@"^pptp-gateway \d+\.\d+\.\d+", Chroot(merged, "/usr/sbin/pptp-gateway", "--version"));
                Assert.Contains("accepted", Chroot(merged, "/usr/sbin/pptp-gateway", "check-config", "/usr/share/pptp-gateway/pptp-gateway.json"), StringComparison.Ordinal);

                Chroot(merged, "dpkg", "-i", "/mnt/v2.deb");
                Assert.Equal(upgrade, Chroot(merged, "dpkg-query", "-W", "-f=${Version}", "pptp-gateway"));
                AssertEnabled(merged);

                Chroot(merged, "dpkg", "--remove", "pptp-gateway");
                Assert.False(File.Exists(Path.Combine(merged, "usr", "sbin", "pptp-gateway")));
                // The service's state is kept until purge (an admin may reinstall).
                Directory.CreateDirectory(Path.Combine(merged, "var", "lib", "pptp-gateway"));
                File.WriteAllText(Path.Combine(merged, "var", "lib", "pptp-gateway", "last-good.json"), "{}");

                Chroot(merged, "dpkg", "--purge", "pptp-gateway");
                Assert.Equal("", Chroot(merged, "sh", "-c", "dpkg-query -W -f='${Status}' pptp-gateway 2>/dev/null || true"));
            }
            finally
            {
                ProcessRunner.Run("umount", [Path.Combine(merged, "mnt")]);
            }
        }
        finally
        {
            ProcessRunner.Run("umount", [merged]);
        }
        try
        {
            // What the package left: every file in the upper layer (a whiteout is a deleted system file) and
            // every directory the root did not have, less dpkg's records.
            var left = Directory.EnumerateFileSystemEntries(upper, "*", SearchOption.AllDirectories)
                .Select(p => (Path: Path.GetRelativePath(upper, p), IsDirectory: Directory.Exists(p)))
                .Where(e => !e.IsDirectory || !Directory.Exists(Path.Combine(lower, e.Path)))
                .Select(e => e.Path + (e.IsDirectory ? "/" : ""))
                .Where(p => !DpkgRecords.Any(r => p.StartsWith(r, StringComparison.Ordinal)))
                .Order(StringComparer.Ordinal)
                .ToList();
            Assert.True(left.Count == 0, "left behind after purge:\n" + string.Join('\n', left));
        }
        finally
        {
            work.Delete(recursive: true);
        }
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Enabled: multi-user.target wants the unit (deb-systemd-helper links /lib/... or /usr/lib/..., one place on merged /usr).</summary>
    private static void AssertEnabled(string root)
    {
        var target = new FileInfo(Path.Combine(root, EnabledLink)).LinkTarget;
        Assert.True(target is "/" + Unit or "/lib/systemd/system/pptp-gateway.service", $"{EnabledLink} -> {target ?? "(missing)"}");
    }

    /// <summary>The same package with a higher version: what an upgrade installs.</summary>
    private static string MakeUpgrade(string deb, string directory, string target)
    {
        Must("dpkg-deb", "--raw-extract", deb, directory);
        var control = Path.Combine(directory, "DEBIAN", "control");
        var version = DebianPackageTests.Version + "+upgrade1";
        File.WriteAllLines(control, File.ReadAllLines(control).Select(l => l.StartsWith("Version:", StringComparison.Ordinal) ? "Version: " + version : l));
        Must("dpkg-deb", "--root-owner-group", "--build", directory, target);
        return version;
    }

    private static string Chroot(string root, params string[] command)
    {
        var result = ProcessRunner.Run("chroot", [root, .. command], TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"chroot {string.Join(' ', command)}: exit {result.ExitCode}:\n{result.Stdout}{result.Stderr}");
        return result.Stdout;
    }

    private static void Must(string program, params string[] arguments)
    {
        var result = ProcessRunner.Run(program, arguments, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.Stderr}");
    }
}
