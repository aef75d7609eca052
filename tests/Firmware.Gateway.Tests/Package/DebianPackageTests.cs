using System.Globalization;
using System.Text.RegularExpressions;

namespace Firmware.Gateway.Tests.Package;

/// <summary>
/// The Debian packages scripts/package builds (scripts/test runs it before the tests): what they hold,
/// what they depend on, how hardened the unit is, and what the factory-config helper does on first start.
/// </summary>
public sealed partial class DebianPackageTests
{
    public static TheoryData<string> Arches => new() { "arm64", "amd64" };

    private static readonly string[] ExpectedFiles =
    [
        "usr/lib/pptp-gateway/install-factory-config",
        "usr/lib/systemd/system/pptp-gateway.service",
        "usr/sbin/pptp-gateway",
        "usr/share/doc/pptp-gateway/README.md.gz",
        "usr/share/doc/pptp-gateway/changelog.gz",
        "usr/share/doc/pptp-gateway/copyright",
        "usr/share/man/man8/pptp-gateway.8.gz",
        "usr/share/pptp-gateway/pptp-gateway.json",
        "usr/share/pptp-gateway/pptp-gateway.schema.json",
    ];

    private static string UnitFile => Path.Combine(RepoPaths.Root, "packaging", "deb", "pptp-gateway.service");

    [Theory]
    [MemberData(nameof(Arches))]
    public void Package_holds_the_binary_unit_config_schema_man_page_and_docs(string arch)
    {
        var listing = Run("dpkg-deb", "--contents", RequirePackage(arch));
        var files = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l[0] == '-')
            .Select(l => l[(l.IndexOf("./", StringComparison.Ordinal) + 2)..])
            .Order(StringComparer.Ordinal);
        Assert.Equal(ExpectedFiles, files);
        Assert.Matches(@"-rwxr-xr-x root/root\s+\d+ [-0-9 :]+\./usr/sbin/pptp-gateway\n", listing);

        // The packaged binary is the published one, byte for byte.
        var extracted = Directory.CreateTempSubdirectory("pgw-deb-");
        try
        {
            Run("dpkg-deb", "--extract", RequirePackage(arch), extracted.FullName);
            var rid = arch == "arm64" ? "linux-arm64" : "linux-x64";
            Assert.Equal(File.ReadAllBytes(RepoPaths.PublishedBinary(rid)),
                File.ReadAllBytes(Path.Combine(extracted.FullName, "usr", "sbin", "pptp-gateway")));
            Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "packaging", "pptp-gateway.factory.json")),
                File.ReadAllText(Path.Combine(extracted.FullName, "usr", "share", "pptp-gateway", "pptp-gateway.json")));
        }
        finally
        {
            extracted.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Arches))]
    public void Control_names_the_architecture_and_depends_on_libc_only(string arch)
    {
        var deb = RequirePackage(arch);
        Assert.Equal(arch, Run("dpkg-deb", "--field", deb, "Architecture").Trim());
        Assert.Equal("pptp-gateway", Run("dpkg-deb", "--field", deb, "Package").Trim());
        Assert.Matches(@"^libc6 \(>= 2\.\d+\), init-system-helpers \(>= [0-9.]+\)$", Run("dpkg-deb", "--field", deb, "Depends").Trim());
        var scripts = Run("dpkg-deb", "--info", deb);
        foreach (var script in new[] { "postinst", "prerm", "postrm", "md5sums", "control" })
        {
            Assert.Contains($" {script}", scripts, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unit_is_notify_with_a_watchdog_two_capabilities_and_a_strict_sandbox()
    {
        var unit = File.ReadAllLines(UnitFile).Where(l => l.Length > 0 && l[0] != '#').ToList();
        foreach (var setting in new[]
        {
            "Type=notify", "WatchdogSec=20s", "Restart=on-failure", "ExecStart=/usr/sbin/pptp-gateway run",
            "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW", "ProtectSystem=strict", "NoNewPrivileges=yes",
            "PrivateTmp=yes", "PrivateDevices=yes", "DeviceAllow=/dev/net/tun rw", "DeviceAllow=char-gpiochip rw",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", "SystemCallFilter=@system-service",
            "StateDirectory=pptp-gateway", "RuntimeDirectory=pptp-gateway",
        })
        {
            Assert.Contains(setting, unit);
        }
        var writable = unit.Single(l => l.StartsWith("ReadWritePaths=", StringComparison.Ordinal));
        Assert.Contains("-/boot/firmware", writable, StringComparison.Ordinal);
    }

    [Fact]
    public void Systemd_rates_the_unit_exposure_at_most_2_0()
    {
        // --threshold is on systemd's 0-100 scale: 20 is an exposure of 2.0.
        var result = ProcessRunner.Run("systemd-analyze", ["security", "--offline=true", "--threshold=20", "--no-pager", UnitFile]);
        var match = ExposureLine().Match(result.Stdout);
        Assert.True(match.Success, $"no exposure line in:\n{result.Stdout}{result.Stderr}");
        var exposure = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(result.ExitCode == 0 && exposure <= 2.0, $"exposure {exposure} (exit {result.ExitCode}):\n{result.Stdout}");
    }

    [Fact]
    public void Factory_config_is_accepted_and_runs_nothing_without_a_default_user()
    {
        var file = Path.Combine(RepoPaths.Root, "packaging", "pptp-gateway.factory.json");
        var result = ProcessRunner.Run(RepoPaths.PublishedBinary("linux-x64"), ["check-config", file]);
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("server (disabled)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("0 enabled users", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("accepted, 0 warnings", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void First_start_puts_the_factory_config_on_the_boot_partition_and_never_overwrites_one()
    {
        var boot = Directory.CreateTempSubdirectory("pgw-boot-");
        try
        {
            var first = RunHelper(boot.FullName);
            Assert.Contains("<5>wrote the factory config", first, StringComparison.Ordinal);
            var config = Path.Combine(boot.FullName, "pptp-gateway.json");
            Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "packaging", "pptp-gateway.factory.json")), File.ReadAllText(config));
            Assert.True(File.Exists(Path.Combine(boot.FullName, "pptp-gateway.schema.json")));

            File.WriteAllText(config, "{ \"clients\": [] } // the user's own");
            Assert.Equal("", RunHelper(boot.FullName));
            Assert.Equal("{ \"clients\": [] } // the user's own", File.ReadAllText(config));
            Assert.False(File.Exists(config + ".new"));
        }
        finally
        {
            boot.Delete(recursive: true);
        }
    }

    [Fact]
    public void Without_a_boot_partition_the_helper_says_so_and_does_not_fail()
    {
        var output = RunHelper("/nonexistent/pgw-boot");
        Assert.Contains("<4>no boot partition (/nonexistent/pgw-boot) found", output, StringComparison.Ordinal);
    }

    private static string RunHelper(string bootDirectory)
    {
        var helper = Path.Combine(RepoPaths.Root, "packaging", "deb", "install-factory-config");
        var factory = Directory.CreateTempSubdirectory("pgw-factory-");
        try
        {
            File.Copy(Path.Combine(RepoPaths.Root, "packaging", "pptp-gateway.factory.json"), Path.Combine(factory.FullName, "pptp-gateway.json"));
            File.Copy(Path.Combine(RepoPaths.Root, "board", "common", "pptp-gateway.schema.json"), Path.Combine(factory.FullName, "pptp-gateway.schema.json"));
            var result = ProcessRunner.Run("env", [$"PPTP_GATEWAY_FACTORY_DIR={factory.FullName}", $"PPTP_GATEWAY_BOOT_DIRS={bootDirectory}", helper]);
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stdout}{result.Stderr}");
            return result.Stdout;
        }
        finally
        {
            factory.Delete(recursive: true);
        }
    }

    internal static string RequirePackage(string arch)
    {
        var deb = Path.Combine(RepoPaths.Root, "artifacts", $"pptp-gateway_{Version}_{arch}.deb");
        Assert.True(File.Exists(deb), $"{deb} is missing: run scripts/package (scripts/test does)");
        return deb;
    }

    internal static string Version { get; } = VersionElement().Match(File.ReadAllText(Path.Combine(RepoPaths.Root, "Directory.Build.props"))).Groups[1].Value;

    private static string Run(string program, params string[] arguments)
    {
        var result = ProcessRunner.Run(program, arguments);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: exit {result.ExitCode}: {result.Stderr}");
        return result.Stdout;
    }

    [GeneratedRegex(@"Overall exposure level for [^:]+: (\d+\.\d)")]
    private static partial Regex ExposureLine();

    [GeneratedRegex("<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();
}
