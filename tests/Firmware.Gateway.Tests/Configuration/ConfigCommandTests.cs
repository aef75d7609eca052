using System.Text.Json;
using Firmware.Gateway.Cli;
using Firmware.Gateway.Configuration;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

public class CheckConfigCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Run(_ => null, args);

    private static (int Exit, string Out, string Err) Run(Func<string, string?> env, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = GatewayCommandLine.Run(args, new GatewayEnvironment(env, Lan), stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void The_example_configuration_passes()
    {
        var example = Path.Combine(RepoRoot(), "board", "common", "pptp-gateway.json");
        var (exit, output, _) = Run("check-config", example);
        Assert.True(exit == 0, output);
        Assert.EndsWith("accepted, 0 warnings\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("server: listen 0.0.0.0, tunnel address 192.168.100.1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("change-me", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_exit_65_with_every_problem_and_a_summary()
    {
        using var temp = new TempDirectory();
        var path = temp.File("bad.json");
        File.WriteAllText(path, "{\n  \"ppp\": { \"mtu\": \"big\" },\n  \"lgging\": {},\n  \"board\": { \"buttons\": { \"button1\": { \"pin\": 5 }, \"button2\": { \"pin\": 5 } } }\n}");
        var (exit, output, _) = Run("check-config", path);
        Assert.Equal(GatewayCommandLine.ExitCodes.DataError, exit);
        var lines = output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(
        [
            path,
            "  error: line 2, ppp.mtu: expected a number, got a string (\"big\")",
            "  error: line 4, board.buttons.button2.pin: pin 5 is already used by board.buttons.button1.pin (line 4)",
            "  warning: no server and no clients: the gateway will run but do nothing",
            "  warning: line 3, lgging: unknown key 'lgging' (ignored); did you mean 'logging'?",
            "rejected, 2 errors, 2 warnings",
        ], lines);
    }

    [Fact]
    public void Warnings_only_exit_0()
    {
        using var temp = new TempDirectory();
        var path = temp.File("weak.json");
        File.WriteAllText(path, MinimalServer.Replace("\"users\"", "\"authMethods\": [\"pap\", \"mschapv2\"], \"users\"", StringComparison.Ordinal));
        var (exit, output, _) = Run("check-config", "--config", path);
        Assert.Equal(0, exit);
        Assert.Contains("weak: pap sends the password in clear text", output, StringComparison.Ordinal);
        Assert.Contains("accepted, 3 warnings", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Finds_the_file_through_the_environment_variable()
    {
        using var temp = new TempDirectory();
        var path = temp.File("env.json");
        File.WriteAllText(path, MinimalServer);
        var (exit, output, _) = Run(name => name == ConfigLocator.EnvironmentVariable ? path : null, "check-config");
        Assert.Equal(0, exit);
        Assert.StartsWith(path, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_exits_66()
    {
        var (exit, _, error) = Run("check-config", "/nonexistent/pptp-gateway.json");
        Assert.Equal(GatewayCommandLine.ExitCodes.NoInput, exit);
        Assert.Contains("no configuration file; looked for /nonexistent/pptp-gateway.json", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Print_schema_prints_the_generated_schema()
    {
        var (exit, output, _) = Run("print-schema");
        Assert.Equal(0, exit);
        Assert.Equal(ConfigSchema.Generate(), output);
    }

    [Fact]
    public void Locator_order_is_explicit_then_environment_then_boot_partition()
    {
        Assert.Equal("/x.json", ConfigLocator.Locate("/x.json", _ => "/env.json", _ => true, out _));
        Assert.Equal("/env.json", ConfigLocator.Locate(null, _ => "/env.json", _ => true, out _));
        Assert.Equal("/boot/pptp-gateway.json", ConfigLocator.Locate(null, _ => null, p => p == "/boot/pptp-gateway.json", out var tried));
        Assert.Equal(ConfigLocator.BootPartitionPaths, tried);
        Assert.Equal("/boot/firmware/pptp-gateway.json", ConfigLocator.Locate(null, _ => null, _ => true, out _));
    }
}

public class ImportPptpdTests
{
    private static readonly string Conf = TestData("pptpd/pptpd.conf");
    private static readonly string Options = TestData("pptpd/pptpd-options");
    private static readonly string Secrets = TestData("pptpd/chap-secrets");

    private static PptpdImportResult Import(string options = "pptpd/pptpd-options") => PptpdImporter.Import(
        File.ReadAllText(Conf), File.ReadAllText(TestData(options)), File.ReadAllText(Secrets), "test");

    [Fact]
    public void Carries_over_addresses_limits_security_and_users()
    {
        var result = Import();
        var loaded = ConfigLoader.Parse("imported.json", System.Text.Encoding.UTF8.GetBytes(result.Json), FixedLocalNetworks.None);
        Assert.True(loaded.Accepted, string.Join("\n", loaded.Diagnostics));
        var server = loaded.Config!.Server!;
        Assert.Equal("203.0.113.10", server.Listen.ToString());
        Assert.Equal("192.168.0.1", server.LocalAddress.ToString());
        Assert.Equal(["192.168.0.234-192.168.0.238", "192.168.0.245"], server.Pool.Select(p => p.ToString()));
        Assert.Equal(["10.0.0.1", "10.0.0.2"], server.Dns.Select(a => a.ToString()));
        Assert.Equal(["10.0.0.3"], server.Wins.Select(a => a.ToString()));
        Assert.Equal(20, server.MaxSessions);
        Assert.Equal([Firmware.Protocol.Auth.AuthMethod.MsChapV2], server.AuthMethods);
        Assert.Equal(MppePolicy.Default, server.Mppe);
        Assert.Equal(["alice", "bob smith", "carol"], server.Users.Select(u => u.Name));
        Assert.Equal("s3cret with space", server.Users[0].Secret.Password);
        Assert.Equal("carol#1", server.Users[2].Secret.Password);
        Assert.Null(server.Users[0].Address);
        Assert.Equal("192.168.0.240", server.Users[1].Address!.ToString());
        Assert.Equal(new PppOptions(1490, 1490, TimeSpan.FromSeconds(30), 4, TimeSpan.FromSeconds(3), 10), loaded.Config.Ppp);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, loaded.Config.Logging.Level);
    }

    [Fact]
    public void Lists_what_it_could_not_carry_over()
    {
        var notes = Import().Notes;
        Assert.Contains(notes, n => n.Contains("'logwtmp'", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("'proxyarp'", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("'dave' is for server 'otherhost'", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("'alice' appears twice", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("'eve' is read from a file", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("'carol' lists 2 addresses", StringComparison.Ordinal));
        Assert.DoesNotContain(notes, n => n.Contains("nobsdcomp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_weak_setup_imports_equally_weak_and_check_config_warns()
    {
        var result = Import("pptpd/options.weak");
        var loaded = ConfigLoader.Parse("imported.json", System.Text.Encoding.UTF8.GetBytes(result.Json), FixedLocalNetworks.None);
        Assert.True(loaded.Accepted, string.Join("\n", loaded.Errors));
        var mppe = loaded.Config!.Server!.Mppe;
        Assert.False(mppe.Required);
        Assert.Equal([128], mppe.KeyLengths);
        Assert.True(mppe.AllowStateful);
        Assert.Equal(4, loaded.Config.Server.AuthMethods.Count);
        Assert.Contains(loaded.Warnings, w => w.Message.StartsWith("weak: MPPE is optional", StringComparison.Ordinal));
        Assert.Contains(loaded.Warnings, w => w.Message.StartsWith("weak: pap", StringComparison.Ordinal));
    }

    [Fact]
    public void Tokenizes_pppd_words_quotes_and_comments()
    {
        var lines = PptpdImporter.Lines("a \"b c\" 'd#e' f\\ g # comment\n\n  # only comment\r\nx").ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(["a", "b c", "d#e", "f g"], lines[0]);
        Assert.Equal(["x"], lines[1]);
    }

    [Fact]
    public void Command_writes_the_file_and_reports_notes_and_validation()
    {
        using var temp = new TempDirectory();
        var output = temp.File("pptp-gateway.json");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = GatewayCommandLine.Run(
            ["import-pptpd", "--pptpd-conf", Conf, "--options", Options, "--chap-secrets", Secrets, "-o", output],
            new GatewayEnvironment(_ => null, FixedLocalNetworks.None), stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
        Assert.Equal("", stdout.ToString());
        Assert.Contains("note: options: 'proxyarp' is not carried over", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("imported configuration: accepted", stderr.ToString(), StringComparison.Ordinal);
        var check = new StringWriter();
        Assert.Equal(0, GatewayCommandLine.Run(["check-config", output], new GatewayEnvironment(_ => null, FixedLocalNetworks.None), check, new StringWriter()));
        using var json = JsonDocument.Parse(File.ReadAllText(output), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        Assert.Equal(3, json.RootElement.GetProperty("server").GetProperty("users").GetArrayLength());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output));
    }

    [Fact]
    public void Command_on_a_proxyarp_lan_reports_the_overlap_and_exits_65()
    {
        var stderr = new StringWriter();
        var lan = new FixedLocalNetworks(new LocalNetwork("eth0", new System.Net.IPNetwork(System.Net.IPAddress.Parse("192.168.0.0"), 24)));
        var exit = GatewayCommandLine.Run(
            ["import-pptpd", "--pptpd-conf", Conf, "--options", Options, "--chap-secrets", Secrets],
            new GatewayEnvironment(_ => null, lan), new StringWriter(), stderr);
        Assert.Equal(GatewayCommandLine.ExitCodes.DataError, exit);
        Assert.Contains("overlaps the LAN 192.168.0.0/24 on eth0", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Command_without_pptpd_conf_exits_66()
    {
        var stderr = new StringWriter();
        var exit = GatewayCommandLine.Run(["import-pptpd", "--pptpd-conf", "/nonexistent/pptpd.conf"],
            new GatewayEnvironment(_ => null, FixedLocalNetworks.None), new StringWriter(), stderr);
        Assert.Equal(GatewayCommandLine.ExitCodes.NoInput, exit);
    }
}
