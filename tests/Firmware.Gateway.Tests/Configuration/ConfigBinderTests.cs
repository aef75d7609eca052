using System.Net;
using Firmware.Gateway.Configuration;
using Firmware.Protocol.Auth;
using Microsoft.Extensions.Logging;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

public class ConfigBinderTests
{
    [Fact]
    public void Empty_object_gives_the_safe_defaults_with_a_do_nothing_warning()
    {
        var result = Load("{}");
        Assert.True(result.Accepted);
        Assert.Equal(GatewayConfig.Default, result.Config);
        Assert.Equal("warning: no server and no clients: the gateway will run but do nothing", Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void Server_defaults_are_the_strongest_pptp_allows()
    {
        var result = Load(MinimalServer);
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var server = result.Config!.Server!;
        Assert.Equal([AuthMethod.MsChapV2], server.AuthMethods);
        Assert.Equal(MppePolicy.Default, server.Mppe);
        Assert.True(server.Mppe.Required);
        Assert.Equal([128], server.Mppe.KeyLengths);
        Assert.True(server.Mppe.AllowStateless && server.Mppe.AllowStateful && server.Mppe.PreferStateless);
        Assert.Equal(LockoutPolicy.Default, server.Lockout);
        Assert.Equal(IPAddress.Any, server.Listen);
        Assert.Equal(16, server.MaxSessions);
        var alice = Assert.Single(server.Users);
        Assert.True(alice.Secret.HasNtHash);
        Assert.Equal(Convert.FromHexString("8846F7EAEE8FB117AD06BDD830B7586C"), alice.Secret.NtHash.ToArray());
    }

    [Fact]
    public void Binds_every_section()
    {
        var json = """
            {
              "logging": { "level": "debug" },
              "server": {
                "listen": "192.168.1.1", "localAddress": "172.16.0.1", "pool": ["172.16.0.16/28", "172.16.1.5-9"],
                "dns": ["1.1.1.1"], "wins": ["172.16.0.2"], "maxSessions": 8, "maxConnectionsPerSource": 2,
                "lockout": { "failures": 3, "windowSeconds": 60, "durationSeconds": 120 },
                "users": [ { "name": "u", "password": "p", "address": "172.16.2.1", "enabled": false, "maxSessions": 2 } ]
              },
              "clients": [ {
                "name": "hq", "server": "vpn.example.com", "user": "me", "ntHash": "00112233445566778899aabbccddeeff",
                "redial": { "initialDelaySeconds": 1.5, "maxDelaySeconds": 60, "jitter": 0 },
                "defaultRoute": true, "routes": ["10.20.0.0/16"], "usePeerDns": true, "writeSystemResolvConf": true, "interface": "hq0"
              } ],
              "ppp": { "mru": 1300, "mtu": 1200, "lcpEchoIntervalSeconds": 0, "lcpEchoFailures": 5, "restartTimerSeconds": 2, "maxConfigure": 7 },
              "tun": { "serverPrefix": "vs", "clientPrefix": "vc" },
              "forwarding": { "enabled": true, "masqueradeOut": "eth0" },
              "hooks": { "ipUp": "/etc/up", "ipDown": "/etc/down", "timeoutSeconds": 5 }
            }
            """;
        var result = Load(json);
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        var c = result.Config!;
        Assert.Equal(LogLevel.Debug, c.Logging.Level);
        Assert.Equal(IPAddress.Parse("192.168.1.1"), c.Server!.Listen);
        Assert.Equal(["172.16.0.16-172.16.0.31", "172.16.1.5-172.16.1.9"], c.Server.Pool.Select(r => r.ToString()));
        Assert.Equal(new LockoutPolicy(3, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)), c.Server.Lockout);
        var user = Assert.Single(c.Server.Users);
        Assert.Equal(new UserOptions("u", ConfigSecret.FromPassword("p"), IPAddress.Parse("172.16.2.1"), false, 2), user);
        var client = Assert.Single(c.Clients);
        Assert.Equal(new RedialPolicy(TimeSpan.FromSeconds(1.5), TimeSpan.FromMinutes(1), 0), client.Redial);
        Assert.Equal("hq0", client.Interface);
        Assert.True(client.DefaultRoute && client.UsePeerDns && client.WriteSystemResolvConf);
        Assert.Equal(new PppOptions(1300, 1200, TimeSpan.Zero, 5, TimeSpan.FromSeconds(2), 7), c.Ppp);
        Assert.Equal(new TunOptions("vs", "vc"), c.Tun);
        Assert.Equal(new ForwardingOptions(true, "eth0"), c.Forwarding);
        Assert.Equal(new HookOptions("/etc/up", "/etc/down", TimeSpan.FromSeconds(5)), c.Hooks);
    }

    [Fact]
    public void Pool_overlapping_the_lan_names_the_interface_and_line()
    {
        var json = """
            {
              "server": {
                "localAddress": "172.16.0.1",
                "pool": ["10.0.0.0/24"],
                "users": [ { "name": "a", "password": "p" } ]
              }
            }
            """;
        var error = Single(Load(json), "server.pool[0]");
        Assert.Equal("error: line 4, server.pool[0]: 10.0.0.0/24 overlaps the LAN 10.0.0.0/16 on eth0", error.ToString());
    }

    [Fact]
    public void Client_entry_missing_fields_reports_each_with_the_entry_line()
    {
        var result = Load("{\n  \"clients\": [\n    { \"name\": \"x\" }\n  ]\n}");
        Assert.Equal("error: line 3, clients[0].server: missing", Single(result, "clients[0].server").ToString());
        Assert.Equal("error: line 3, clients[0].user: missing", Single(result, "clients[0].user").ToString());
        Assert.Equal("error: line 3, clients[0]: needs a password or an ntHash", Single(result, "clients[0]").ToString());
    }

    [Fact]
    public void User_secret_rules()
    {
        var json = """
            {
              "server": {
                "localAddress": "172.16.0.1", "pool": ["172.16.0.10-20"],
                "users": [
                  { "name": "both", "password": "p", "ntHash": "00112233445566778899aabbccddeeff" },
                  { "name": "neither" },
                  { "name": "empty", "password": "" },
                  { "name": "short", "ntHash": "0011" },
                  { "name": "nothex", "ntHash": "zz112233445566778899aabbccddeeff" }
                ]
              }
            }
            """;
        var result = Load(json);
        Assert.Equal("error: line 5, server.users[0].ntHash: give password or ntHash, not both", Single(result, "server.users[0].ntHash").ToString());
        Assert.Equal("error: line 6, server.users[1]: needs a password or an ntHash", Single(result, "server.users[1]").ToString());
        Assert.Equal("error: line 7, server.users[2].password: empty", Single(result, "server.users[2].password").ToString());
        Assert.Equal("must be 32 hex digits (0-9, A-F)", Single(result, "server.users[3].ntHash").Message);
        Assert.Equal("must be 32 hex digits (0-9, A-F)", Single(result, "server.users[4].ntHash").Message);
        Assert.Equal(5, result.ErrorCount);
    }

    [Fact]
    public void Secrets_never_appear_in_messages()
    {
        var json = """
            {
              "server": { "localAddress": "172.16.0.1", "pool": ["172.16.0.10-20"],
                "users": [ { "name": "a", "password": 12345678 }, { "name": "b", "ntHash": "SECRETHASHVALUE" } ] },
              "clients": [ { "name": "c", "server": "h", "user": "u", "password": ["hunter2"] } ]
            }
            """;
        var result = Load(json);
        Assert.Equal(3, result.ErrorCount);
        foreach (var d in result.Diagnostics)
        {
            Assert.DoesNotContain("12345678", d.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("SECRETHASHVALUE", d.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", d.ToString(), StringComparison.Ordinal);
        }
        Assert.Equal("password(***)", ConfigSecret.FromPassword("hunter2").ToString());
        Assert.DoesNotContain("hunter2", new UserOptions("x", ConfigSecret.FromPassword("hunter2"), null, true, 1).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_user_names_point_at_the_first()
    {
        var json = "{\n \"server\": { \"localAddress\": \"172.16.0.1\", \"pool\": [\"172.16.0.10-20\"],\n  \"users\": [\n"
            + "   { \"name\": \"alice\", \"password\": \"a\" },\n   { \"name\": \"Alice\", \"password\": \"b\" }\n  ] }\n}";
        Assert.Equal(
            "error: line 5, server.users[1].name: 'Alice' is also server.users[0].name (line 4); user names must be unique (letter case is ignored)",
            Single(Load(json), "server.users[1].name").ToString());
    }

    [Theory]
    [InlineData("\"maxSessions\": \"16\"", "server.maxSessions", "expected a number, got a string (\"16\"); remove the quotes")]
    [InlineData("\"maxSessions\": 1.5", "server.maxSessions", "expected a whole number, got 1.5")]
    [InlineData("\"maxSessions\": 0", "server.maxSessions", "0 is outside 1..1024")]
    [InlineData("\"enabled\": \"true\"", "server.enabled", "expected true or false, got a string (\"true\"); remove the quotes")]
    [InlineData("\"dns\": \"1.1.1.1\"", "server.dns", "expected a list [ \"...\" ], got a string (\"1.1.1.1\")")]
    [InlineData("\"mppe\": true", "server.mppe", "expected an object { }, got true/false")]
    [InlineData("\"lockout\": []", "server.lockout", "expected an object { }, got a list [ ]")]
    [InlineData("\"listen\": \"1.2.3\"", "server.listen", "'1.2.3' is not an IPv4 address like 192.168.100.1")]
    [InlineData("\"authMethods\": [\"mschapv3\"]", "server.authMethods[0]", "'mschapv3' is not one of pap, chap, mschap, mschapv2; did you mean 'mschapv2'?")]
    [InlineData("\"authMethods\": []", "server.authMethods", "empty: allow at least one method, e.g. [\"mschapv2\"]")]
    [InlineData("\"mppe\": { \"keyLengths\": [64] }", "server.mppe.keyLengths[0]", "64 is not one of 40, 56, 128")]
    [InlineData("\"mppe\": { \"allowStateless\": false, \"allowStateful\": false }", "server.mppe.allowStateless", "allowStateless and allowStateful are both false: no MPPE mode is left")]
    public void Wrong_values_in_the_server_section_are_errors_on_line_3(string member, string path, string message)
    {
        var json = "{\n \"server\": { \"localAddress\": \"172.16.0.1\", \"pool\": [\"172.16.0.10-20\"], \"users\": [{\"name\": \"a\", \"password\": \"p\"}],\n  "
            + member + "\n }\n}";
        var result = Load(json);
        Assert.False(result.Accepted);
        var error = Single(result, path);
        Assert.Equal(3, error.Line);
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("\"10.1.2.3/33\"", "'10.1.2.3/33' is not an IPv4 CIDR prefix like 192.168.100.0/24")]
    [InlineData("\"172.16.0.1/24\"", "'172.16.0.1/24' has host bits set; did you mean 172.16.0.0/24?")]
    [InlineData("\"172.16.0.50-172.16.0.10\"", "range '172.16.0.50-172.16.0.10' ends before it starts")]
    [InlineData("\"172.16.0.10-300\"", "'300' in range '172.16.0.10-300' is not an IPv4 address or last octet")]
    [InlineData("\"fe80::/64\"", "'fe80::/64' is not an IPv4 CIDR prefix like 192.168.100.0/24")]
    [InlineData("\"172.0.0.0/8\"", "172.0.0.0/8 holds 16777216 addresses; a pool may hold at most 65536")]
    public void Invalid_pool_entries(string entry, string message)
    {
        var json = "{\n \"server\": { \"localAddress\": \"192.168.200.1\", \"users\": [{\"name\": \"a\", \"password\": \"p\"}],\n  \"pool\": [\n   "
            + entry + "\n  ]\n }\n}";
        var error = Single(Load(json), "server.pool[0]");
        Assert.Equal(4, error.Line);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Pools_overlapping_each_other_or_the_tunnel_addresses()
    {
        var json = """
            {
              "server": {
                "localAddress": "172.16.0.1",
                "pool": ["172.16.0.16/28",
                         "172.16.0.20-40",
                         "172.16.0.1"],
                "users": [ { "name": "a", "password": "p", "address": "172.16.0.1" },
                           { "name": "b", "password": "p", "address": "172.16.9.9" },
                           { "name": "c", "password": "p", "address": "172.16.9.9" } ]
              },
              "clients": [ { "name": "x", "server": "h", "user": "u", "password": "p", "routes": ["172.16.0.0/24"] } ]
            }
            """;
        var result = Load(json);
        Assert.Equal("error: line 5, server.pool[1]: 172.16.0.20-40 overlaps server.pool[0] (172.16.0.16/28, line 4)",
            Single(result, "server.pool[1]").ToString());
        Assert.Equal("error: line 6, server.pool[2]: 172.16.0.1 contains the server's own tunnel address 172.16.0.1 (server.localAddress, line 3)",
            Single(result, "server.pool[2]").ToString());
        Assert.Equal("172.16.0.1 is the server's own tunnel address (server.localAddress)", Single(result, "server.users[0].address").Message);
        Assert.Equal("error: line 9, server.users[2].address: 172.16.9.9 is also given to server.users[1] (line 8)",
            Single(result, "server.users[2].address").ToString());
        Assert.Equal(3, result.Errors.Count(e => e.Path == "clients[0].routes[0]"));
    }

    [Fact]
    public void Weak_settings_load_with_warnings_naming_the_risk()
    {
        var json = """
            {
              "server": {
                "localAddress": "172.16.0.1", "pool": ["172.16.0.10-20"], "users": [ { "name": "a", "ntHash": "00112233445566778899aabbccddeeff" } ],
                "authMethods": ["pap", "chap", "mschap", "mschapv2"],
                "mppe": { "required": false, "keyLengths": [40, 56, 128], "allowStateless": false, "allowStateful": true }
              }
            }
            """;
        var result = Load(json);
        Assert.True(result.Accepted, string.Join("\n", result.Errors));
        Assert.Contains("clear text", Single(result, "server.authMethods[0]", ConfigSeverity.Warning).Message, StringComparison.Ordinal);
        Assert.Contains("weak: chap", Single(result, "server.authMethods[1]", ConfigSeverity.Warning).Message, StringComparison.Ordinal);
        Assert.Contains("mschap (v1)", Single(result, "server.authMethods[2]", ConfigSeverity.Warning).Message, StringComparison.Ordinal);
        Assert.Equal("weak: MPPE is optional, so a tunnel may carry traffic unencrypted", Single(result, "server.mppe.required", ConfigSeverity.Warning).Message);
        Assert.Equal("weak: 40-bit MPPE keys can be brute-forced; allow 128 only", Single(result, "server.mppe.keyLengths[0]", ConfigSeverity.Warning).Message);
        Assert.Equal("weak: 56-bit MPPE keys can be brute-forced; allow 128 only", Single(result, "server.mppe.keyLengths[1]", ConfigSeverity.Warning).Message);
        Assert.StartsWith("weak: stateful MPPE only", Single(result, "server.mppe.allowStateless", ConfigSeverity.Warning).Message, StringComparison.Ordinal);
        Assert.Equal("has only an ntHash, so pap and chap cannot log this user in; MS-CHAP can", Single(result, "server.users[0]", ConfigSeverity.Warning).Message);
        Assert.Equal(4, result.Diagnostics.Count(d => d.Line == 5));
        Assert.Equal([AuthMethod.Pap, AuthMethod.ChapMd5, AuthMethod.MsChapV1, AuthMethod.MsChapV2], result.Config!.Server!.AuthMethods);
    }

    [Fact]
    public void Unknown_keys_warn_with_did_you_mean_and_line()
    {
        var json = "{\n  \"sever\": {},\n  \"ppp\": {\n    \"mttu\": 1400,\n    \"lcpEchoFailures\": 3\n  },\n  \"clients\": [ { \"name\": \"x\", \"server\": \"h\", \"user\": \"u\", \"password\": \"p\",\n    \"redial\": { \"jiter\": 0.1 }, \"colour\": \"red\" } ]\n}";
        var result = Load(json);
        Assert.True(result.Accepted, string.Join("\n", result.Errors));
        Assert.Equal("warning: line 2, sever: unknown key 'sever' (ignored); did you mean 'server'?", Single(result, "sever", ConfigSeverity.Warning).ToString());
        Assert.Equal("warning: line 4, ppp.mttu: unknown key 'mttu' (ignored); did you mean 'mtu'?", Single(result, "ppp.mttu", ConfigSeverity.Warning).ToString());
        Assert.Equal("unknown key 'jiter' (ignored); did you mean 'jitter'?", Single(result, "clients[0].redial.jiter", ConfigSeverity.Warning).Message);
        Assert.Equal("unknown key 'colour' (ignored)", Single(result, "clients[0].colour", ConfigSeverity.Warning).Message);
        Assert.Equal(8, Single(result, "clients[0].colour", ConfigSeverity.Warning).Line);
    }

    [Fact]
    public void All_errors_are_reported_at_once_in_line_order()
    {
        var json = "{\n  \"ppp\": { \"mru\": 9000 },\n  \"tun\": { \"serverPrefix\": \"this-name-is-too-long\" },\n  \"hooks\": { \"ipUp\": \"relative/up.sh\" },\n  \"logging\": { \"level\": \"verbose\" },\n  \"board\": { \"buttons\": { \"button1\": { \"short\": \"restart\" } } }\n}";
        var result = Load(json);
        Assert.Equal([2, 3, 4, 5, 6], result.Errors.Select(e => e.Line));
        Assert.Equal("'relative/up.sh' must be an absolute path (starting with /)", Single(result, "hooks.ipUp").Message);
        Assert.Equal("'verbose' is not one of trace, debug, information, warning, error, critical", Single(result, "logging.level").Message);
    }

    [Fact]
    public void A_list_of_objects_given_as_an_object_is_a_type_error()
    {
        Assert.Equal("error: line 1, clients: expected a list [ { ... } ], got an object { }", Single(Load("{ \"clients\": {} }"), "clients").ToString());
    }

    [Fact]
    public void Client_rules()
    {
        var json = """
            {
              "clients": [
                { "name": "a", "server": "bad host!", "user": "u", "password": "p",
                  "redial": { "initialDelaySeconds": 100, "maxDelaySeconds": 10 }, "writeSystemResolvConf": true },
                { "name": "A", "server": "10.9.9.9", "user": "u", "password": "p", "interface": "pptpc0", "routes": ["10.0.1.0/24"] }
              ]
            }
            """;
        var result = Load(json);
        Assert.Equal("'bad host!' is not a host name or IP address", Single(result, "clients[0].server").Message);
        Assert.Equal("initialDelaySeconds (100) is more than maxDelaySeconds (10)", Single(result, "clients[0].redial.initialDelaySeconds").Message);
        Assert.Equal("has no effect without usePeerDns: true", Single(result, "clients[0].writeSystemResolvConf", ConfigSeverity.Warning).Message);
        Assert.StartsWith("'A' is also clients[0].name", Single(result, "clients[1].name").Message, StringComparison.Ordinal);
        Assert.Equal("interface pptpc0 is also used by clients[0]", Single(result, "clients[1].interface").Message);
        Assert.Equal("10.0.1.0/24 lies inside the LAN 10.0.0.0/16 on eth0: LAN traffic would go into the tunnel",
            Single(result, "clients[1].routes[0]", ConfigSeverity.Warning).Message);
    }

    [Fact]
    public void Own_tunnel_interfaces_are_not_mistaken_for_the_lan()
    {
        var networks = new FixedLocalNetworks(new LocalNetwork("pptps0", new IPNetwork(IPAddress.Parse("192.168.100.0"), 24)));
        Assert.True(Load(MinimalServer, networks).Accepted);
    }

    [Fact]
    public void Edit_distance_counts_transpositions_once()
    {
        Assert.Equal(1, ConfigBinder.EditDistance("usres", "users"));
        Assert.Equal(3, ConfigBinder.EditDistance("kitten", "sitting"));
        Assert.Equal("", ConfigBinder.Suggest("completely", ["server", "clients"]));
    }
}
