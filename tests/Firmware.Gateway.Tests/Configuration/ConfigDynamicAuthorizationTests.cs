using System.Net;
using Firmware.Gateway.Configuration;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>server.radius.dynamicAuthorization (RFC 5176 Disconnect and CoA): off by default, and every mistake refused with its line.</summary>
public sealed class ConfigDynamicAuthorizationTests
{
    private static string Server(string dynamicAuthorization) => $$"""
        {
          "server": {
            "localAddress": "192.168.100.1",
            "pool": ["192.168.100.10-192.168.100.50"],
            "authMethods": ["mschapv2"],
            "radius": {
              "servers": [ { "address": "192.0.2.5", "secret": "s3cret" } ],
              "dynamicAuthorization": {{dynamicAuthorization}}
            }
          }
        }
        """;

    [Fact]
    public void Left_out_there_is_none()
    {
        var result = Load("""
            { "server": { "localAddress": "192.168.100.1", "pool": ["192.168.100.10-192.168.100.50"], "authMethods": ["mschapv2"],
              "radius": { "servers": [ { "address": "192.0.2.5", "secret": "s3cret" } ] } } }
            """);

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Null(result.Config!.Server!.Radius!.DynamicAuthorization);
    }

    [Fact]
    public void Enabled_with_a_client_binds_with_the_defaults()
    {
        var result = Load(Server("""{ "enabled": true, "clients": [ { "address": "192.0.2.5", "secret": "coa-secret" } ] }"""));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var options = result.Config!.Server!.Radius!.DynamicAuthorization!;
        Assert.True(options.Enabled);
        Assert.Equal(IPAddress.Any, options.Listen);
        Assert.Equal(3799, options.Port);
        var client = Assert.Single(options.Clients);
        Assert.Equal(IPAddress.Parse("192.0.2.5"), client.Address);
        Assert.Equal("coa-secret", client.Secret.Password);
        Assert.Equal("password(***)", client.Secret.ToString());
    }

    [Fact]
    public void Off_by_default_even_with_clients_and_listen_port_and_a_secret_file_bind()
    {
        using var directory = new TempDirectory();
        var secretFile = Path.Combine(directory.Path, "coa.secret");
        File.WriteAllText(secretFile, "from-the-file\n");
        var result = Load(Server($$"""
            { "listen": "192.0.2.1", "port": 13799,
              "clients": [ { "address": "192.0.2.5", "secretFile": "{{secretFile}}" }, { "address": "192.0.2.6", "secret": "b" } ] }
            """));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        var options = result.Config!.Server!.Radius!.DynamicAuthorization!;
        Assert.False(options.Enabled);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), options.Listen);
        Assert.Equal(13799, options.Port);
        Assert.Equal(["from-the-file", "b"], options.Clients.Select(c => c.Secret.Password));
    }

    [Fact]
    public void Off_with_no_clients_is_fine()
    {
        var result = Load(Server("""{ "enabled": false }"""));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Config!.Server!.Radius!.DynamicAuthorization!.Clients);
    }

    [Theory]
    [InlineData("""{ "enabled": true }""", "server.radius.dynamicAuthorization.clients", "enabled, but no clients")]
    [InlineData("""{ "enabled": true, "clients": [] }""", "server.radius.dynamicAuthorization.clients", "enabled, but no clients")]
    [InlineData("""{ "clients": [ { "address": "192.0.2.5", "secret": "a" }, { "address": "192.0.2.5", "secret": "b" } ] }""",
        "server.radius.dynamicAuthorization.clients[1]", "192.0.2.5 is listed twice")]
    [InlineData("""{ "clients": [ { "address": "radius.example.com", "secret": "a" } ] }""",
        "server.radius.dynamicAuthorization.clients[0].address", "not an IPv4 address")]
    [InlineData("""{ "clients": [ { "address": "0.0.0.0", "secret": "a" } ] }""",
        "server.radius.dynamicAuthorization.clients[0].address", "not one client's address")]
    [InlineData("""{ "clients": [ { "address": "192.0.2.5" } ] }""", "server.radius.dynamicAuthorization.clients[0]", "needs a secret or a secretFile")]
    [InlineData("""{ "clients": [ { "address": "192.0.2.5", "secret": "" } ] }""", "server.radius.dynamicAuthorization.clients[0].secret", "empty")]
    [InlineData("""{ "clients": [ { "secret": "a" } ] }""", "server.radius.dynamicAuthorization.clients[0].address", "missing")]
    [InlineData("""{ "listen": "gateway.local" }""", "server.radius.dynamicAuthorization.listen", "not an IPv4 address")]
    [InlineData("""{ "port": 0 }""", "server.radius.dynamicAuthorization.port", "")]
    [InlineData("""{ "enabled": "yes" }""", "server.radius.dynamicAuthorization.enabled", "")]
    public void Mistakes_are_refused_with_their_place(string dynamicAuthorization, string path, string reason)
    {
        var result = Load(Server(dynamicAuthorization));

        Assert.False(result.Accepted);
        var diagnostic = Single(result, path);
        Assert.Contains(reason, diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(8, diagnostic.Line); // the "dynamicAuthorization" line of the file
    }

    [Fact]
    public void A_misspelt_key_is_a_warning_at_its_place()
    {
        var result = Load(Server("""{ "clients": [ { "address": "192.0.2.5", "secret": "a", "secrets": "b" } ] }"""));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Equal(8, Single(result, "server.radius.dynamicAuthorization.clients[0].secrets", ConfigSeverity.Warning).Line);
    }

    [Fact]
    public void A_client_secret_is_a_secret_any_characters_and_never_in_a_message()
    {
        // Names refuse control characters; a secret is whatever the RADIUS server has, so it may hold them.
        var odd = Load(Server("""{ "clients": [ { "address": "192.0.2.5", "secret": "bell\u0007tab\t" } ] }"""));
        Assert.True(odd.Accepted, string.Join("\n", odd.Diagnostics));
        Assert.Equal("bell\u0007tab\t", odd.Config!.Server!.Radius!.DynamicAuthorization!.Clients[0].Secret.Password);

        var secret = "secret-" + new string('x', 130);
        var result = Load(Server($$"""{ "clients": [ { "address": "192.0.2.5", "secret": "{{secret}}" } ] }"""));

        Assert.False(result.Accepted);
        Assert.Contains("too long", Single(result, "server.radius.dynamicAuthorization.clients[0].secret").Message, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Diagnostics, d => d.Message.Contains("secret-x", StringComparison.Ordinal));
    }
}
