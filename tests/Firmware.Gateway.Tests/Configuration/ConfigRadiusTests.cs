using System.Net;
using Firmware.Gateway.Configuration;
using Firmware.Protocol.Auth;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>The server.radius section: bound with its defaults, and every mistake refused with its line.</summary>
public sealed class ConfigRadiusTests
{
    private static string Server(string radius, string authMethods = "[\"mschapv2\"]", string users = "[]") => $$"""
        {
          "server": {
            "localAddress": "192.168.100.1",
            "pool": ["192.168.100.10-192.168.100.50"],
            "authMethods": {{authMethods}},
            "mppe": { "required": true },
            "users": {{users}},
            "radius": {{radius}}
          }
        }
        """;

    [Fact]
    public void A_server_with_a_secret_binds_with_the_defaults()
    {
        var result = Load(Server("""{ "servers": [ { "address": "192.0.2.5", "secret": "s3cret" } ] }"""));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics); // no "no users" warning: RADIUS checks every method
        var radius = result.Config!.Server!.Radius!;
        var server = Assert.Single(radius.Servers);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.5"), 1812), server.EndPoint);
        Assert.Equal("s3cret", server.Secret.Password);
        Assert.Equal("password(***)", server.Secret.ToString());
        Assert.Equal(TimeSpan.FromSeconds(3), radius.Timeout);
        Assert.Equal(2, radius.Attempts);
        Assert.Equal("pptp-gateway", radius.NasIdentifier);
        Assert.Null(radius.NasIpAddress);
        Assert.Equal([AuthMethod.MsChapV2], radius.Methods);
        Assert.False(radius.FallbackToLocal);
        Assert.Equal(TimeSpan.FromSeconds(9), radius.WorstCaseWait); // 3 s, then 6 s
    }

    [Fact]
    public void Methods_nas_identity_ports_and_a_secret_file_bind()
    {
        using var directory = new TempDirectory();
        var secretFile = Path.Combine(directory.Path, "radius.secret");
        File.WriteAllText(secretFile, "from-the-file\r\nignored second line\n");
        var result = Load(Server($$"""
            {
              "servers": [ { "address": "192.0.2.5", "port": 11812, "secretFile": "{{secretFile}}" }, { "address": "192.0.2.6", "secret": "b" } ],
              "timeoutSeconds": 2, "attempts": 1, "nasIpAddress": "192.0.2.1", "authMethods": ["pap"], "fallbackToLocal": true
            }
            """, authMethods: "[\"mschapv2\", \"pap\"]", users: """[ { "name": "local", "password": "pw" } ]"""));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        var radius = result.Config!.Server!.Radius!;
        Assert.Equal("from-the-file", radius.Servers[0].Secret.Password);
        Assert.Equal(11812, radius.Servers[0].EndPoint.Port);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), radius.NasIpAddress);
        Assert.Null(radius.NasIdentifier); // NAS-IP-Address alone identifies us
        Assert.Equal([AuthMethod.Pap], radius.Methods);
        Assert.True(radius.FallbackToLocal);
    }

    [Theory]
    [InlineData("""{ }""", "server.radius.servers", "missing")]
    [InlineData("""{ "servers": [] }""", "server.radius.servers", "empty")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5" } ] }""", "server.radius.servers[0]", "needs a secret or a secretFile")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5", "secret": "" } ] }""", "server.radius.servers[0].secret", "empty")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5", "secret": "a", "secretFile": "/x" } ] }""", "server.radius.servers[0].secretFile", "not both")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5", "secretFile": "relative/secret" } ] }""", "server.radius.servers[0].secretFile", "not an absolute path")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5", "secretFile": "/nonexistent/radius.secret" } ] }""", "server.radius.servers[0].secretFile", "cannot read")]
    [InlineData("""{ "servers": [ { "address": "radius.example.com", "secret": "a" } ] }""", "server.radius.servers[0].address", "not an IPv4 address")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5", "secret": "a" }, { "address": "192.0.2.5", "secret": "b" } ] }""", "server.radius.servers[1]", "listed twice")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5", "secret": "a" } ], "authMethods": [] }""", "server.radius.authMethods", "empty")]
    [InlineData("""{ "servers": [ { "address": "192.0.2.5", "secret": "a" }, { "address": "192.0.2.6", "secret": "b" } ], "timeoutSeconds": 5, "attempts": 2 }""",
        "server.radius", "could wait 30 s")]
    public void Mistakes_are_refused_with_their_place(string radius, string path, string reason)
    {
        var result = Load(Server(radius));

        Assert.False(result.Accepted);
        Assert.Contains(reason, Single(result, path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_never_reaches_a_message()
    {
        var result = Load(Server("""{ "servers": [ { "address": "192.0.2.5", "secret": 12345 } ] }"""));

        Assert.False(result.Accepted);
        Assert.DoesNotContain(result.Diagnostics, d => d.Message.Contains("12345", StringComparison.Ordinal));
    }

    [Fact]
    public void A_radius_method_the_server_does_not_allow_is_a_warning_and_local_only_methods_without_users_too()
    {
        var result = Load(Server("""{ "servers": [ { "address": "192.0.2.5", "secret": "a" } ], "authMethods": ["mschapv2", "pap"] }""",
            authMethods: "[\"mschapv2\", \"chap\"]"));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Contains("not in server.authMethods", Single(result, "server.radius.authMethods[1]", ConfigSeverity.Warning).Message, StringComparison.Ordinal);
        Assert.Contains("RADIUS does not check chap", Single(result, "server", ConfigSeverity.Warning).Message, StringComparison.Ordinal);
        Assert.Equal([AuthMethod.MsChapV2], result.Config!.Server!.Radius!.Methods);
    }

    [Fact]
    public void Accounting_is_on_by_default_to_each_servers_accounting_port_and_can_be_turned_off()
    {
        var result = Load(Server("""{ "servers": [ { "address": "192.0.2.5", "secret": "a" }, { "address": "192.0.2.6", "accountingPort": 11813, "secret": "b" } ] }"""));
        var radius = result.Config!.Server!.Radius!;

        Assert.NotNull(radius.Accounting);
        Assert.Null(radius.Accounting.InterimInterval); // only when an Access-Accept asks
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.5"), 1813), radius.Servers[0].AccountingEndPoint);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.6"), 11813), radius.Servers[1].AccountingEndPoint);

        var off = Load(Server("""{ "servers": [ { "address": "192.0.2.5", "secret": "a" } ], "accounting": { "enabled": false } }"""));
        Assert.True(off.Accepted, string.Join("\n", off.Diagnostics));
        Assert.Null(off.Config!.Server!.Radius!.Accounting);
    }

    [Theory]
    [InlineData(600, false)]
    [InlineData(30, true)]
    public void An_interim_interval_binds_and_one_under_a_minute_is_a_warning(int seconds, bool warned)
    {
        var result = Load(Server($$"""{ "servers": [ { "address": "192.0.2.5", "secret": "a" } ], "accounting": { "interimIntervalSeconds": {{seconds}} } }"""));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Equal(TimeSpan.FromSeconds(seconds), result.Config!.Server!.Radius!.Accounting!.InterimInterval);
        Assert.Equal(warned, result.Diagnostics.Any(d => d.Path == "server.radius.accounting.interimIntervalSeconds" && d.Severity == ConfigSeverity.Warning));
    }
}
