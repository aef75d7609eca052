using System.Buffers.Binary;
using System.Text.RegularExpressions;

namespace Firmware.Gateway.Tests.Cli;

/// <summary>
/// Runs the Native AOT binaries that scripts/build published: the x64 one directly, the arm64 one under
/// qemu-user, as a board would run them. scripts/test builds them first.
/// </summary>
public sealed class PublishedBinaryTests
{
    private const ushort ElfMachineX64 = 62;
    private const ushort ElfMachineAarch64 = 183;

    public static TheoryData<string> Targets => new() { "linux-x64", "linux-arm64" };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Binary_is_a_native_executable_for_its_target(string rid)
    {
        var header = File.ReadAllBytes(RequireBinary(rid)).AsSpan(0, 64);
        Assert.True(header[..4].SequenceEqual("\u007fELF"u8), "not an ELF file");
        Assert.Equal(2, header[4]); // ELFCLASS64
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
        Assert.Equal(rid == "linux-arm64" ? ElfMachineAarch64 : ElfMachineX64, machine);
    }

    /// <summary>
    /// The binary links against glibc alone (libc, libm, the loader): a board needs no other package for it.
    /// Libraries opened later with dlopen do not show here; the libc-only root of Arm64TunnelTests catches those.
    /// </summary>
    [Theory]
    [MemberData(nameof(Targets))]
    public void Binary_needs_nothing_but_glibc(string rid)
    {
        var result = ProcessRunner.Run("readelf", ["--dynamic", "--program-headers", "--wide", RequireBinary(rid)]);
        Assert.True(result.ExitCode == 0, $"readelf failed: {result.Stderr}");
        var needed = Regex.Matches(result.Stdout, @"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
            .Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
        var loader = rid == "linux-arm64" ? "ld-linux-aarch64.so.1" : "ld-linux-x86-64.so.2";
        Assert.Equal(new[] { loader, "libc.so.6", "libm.so.6" }.Order(StringComparer.Ordinal), needed);
        Assert.Contains($"[Requesting program interpreter: /lib{(rid == "linux-arm64" ? "" : "64")}/{loader}]", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Version_prints_name_and_version(string rid)
    {
        var result = RunBinary(rid, "--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^pptp-gateway \d+\.\d+\.\d+", result.Stdout);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Check_config_accepts_the_example_config(string rid)
    {
        var result = RunBinary(rid, "check-config", RepoPaths.ExampleConfig);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stdout}{result.Stderr}");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Check_config_rejects_a_broken_file_with_its_line(string rid)
    {
        var dir = Directory.CreateTempSubdirectory("pptp-gw-bin-");
        try
        {
            var file = Path.Combine(dir.FullName, "broken.json");
            File.WriteAllText(file, "{\n  \"server\": {\n    \"listen\": \"0.0.0.0\"\n    \"maxSessions\": 4\n  }\n}\n");
            var result = RunBinary(rid, "check-config", file);
            Assert.Equal(65, result.ExitCode);
            Assert.Contains(file, result.Stdout, StringComparison.Ordinal);
            Assert.Contains("line 4, column 5", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Check_config_refuses_a_fifo_and_reports_a_colon_key_instead_of_crashing(string rid)
    {
        var dir = Directory.CreateTempSubdirectory("pptp-gw-bin-");
        try
        {
            // statx and statfs through the AOT binary's P/Invokes, on each architecture's struct layout.
            var fifo = Path.Combine(dir.FullName, "fifo.json");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
            {
                Assert.True(mkfifo.WaitForExit(10_000));
            }
            var refused = RunBinary(rid, "check-config", fifo);
            Assert.Equal(65, refused.ExitCode);
            Assert.Contains("a FIFO (named pipe), not a regular file", refused.Stdout, StringComparison.Ordinal);

            var colon = Path.Combine(dir.FullName, "colon.json");
            File.WriteAllText(colon, "{\n  \"x\": { \"y\": 1 },\n  \"x:y\": 2,\n  \"clients\": []\n}\n");
            var result = RunBinary(rid, "check-config", colon);
            Assert.Equal(0, result.ExitCode);
            Assert.Contains("line 3, x:y: unknown key 'x:y' (ignored)", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Unknown_command_is_a_usage_error(string rid)
    {
        var result = RunBinary(rid, "frobnicate");
        Assert.Equal(64, result.ExitCode);
        Assert.Contains("unknown command", result.Stderr, StringComparison.Ordinal);
    }

    private static ProcessRunner.Result RunBinary(string rid, params string[] args)
    {
        var binary = RequireBinary(rid);
        return rid == "linux-arm64"
            ? ProcessRunner.Run(Qemu, ["-L", "/usr/aarch64-linux-gnu", binary, .. args], TimeSpan.FromSeconds(120))
            : ProcessRunner.Run(binary, args);
    }

    private const string Qemu = "/usr/bin/qemu-aarch64-static";

    private static string RequireBinary(string rid)
    {
        var path = RepoPaths.PublishedBinary(rid);
        Assert.True(File.Exists(path), $"{path} is missing: run scripts/build {rid} first (scripts/test does).");
        if (rid == "linux-arm64")
        {
            Assert.True(File.Exists(Qemu), $"{Qemu} is missing: install qemu-user-static (scripts/setup does).");
        }
        return path;
    }
}
