using System.Text.Json;
using Firmware.Gateway.Configuration;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

public class ConfigSchemaTests
{
    private static string SchemaPath => Path.Combine(RepoRoot(), "board", "common", "pptp-gateway.schema.json");

    [Fact]
    public void Schema_file_is_the_generated_schema()
    {
        var onDisk = File.ReadAllText(SchemaPath).ReplaceLineEndings("\n");
        Assert.True(onDisk == ConfigSchema.Generate(),
            "board/common/pptp-gateway.schema.json is stale: regenerate it with `pptp-gateway print-schema > board/common/pptp-gateway.schema.json`");
    }

    [Fact]
    public void Every_schema_key_is_a_binder_key_and_back()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(SchemaPath));
        var schemaKeys = new SortedSet<string>(StringComparer.Ordinal);
        CollectKeys(schema.RootElement, "", schemaKeys);

        var binderKeys = new SortedSet<string>(StringComparer.Ordinal);
        var read = new HashSet<string>(StringComparer.Ordinal);
        // A document with a server, a user, a RADIUS server, a Disconnect/CoA client and a client makes the binder ask for every key it knows.
        var root = ConfigJsonReader.Parse(System.Text.Encoding.UTF8.GetBytes("""
            { "server": { "users": [ {} ], "radius": { "servers": [ {} ], "dynamicAuthorization": { "clients": [ {} ] } } }, "clients": [ {} ] }
            """), [])!;
        ConfigBinder.Bind(root, FixedLocalNetworks.None, [], read);
        binderKeys.UnionWith(read);

        Assert.Equal(schemaKeys, binderKeys);
        Assert.Equal(new SortedSet<string>(ConfigKeys.All.Select(k => k.Path), StringComparer.Ordinal), binderKeys);
    }

    [Fact]
    public void Every_schema_property_has_a_description_and_leaves_have_a_type()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(SchemaPath));
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.RootElement.GetProperty("$schema").GetString());
        var failures = new List<string>();
        CheckDescriptions(schema.RootElement, "", failures);
        Assert.Empty(failures);
    }

    [Fact]
    public void Example_references_the_schema()
    {
        var example = Path.Combine(RepoRoot(), "board", "common", "pptp-gateway.json");
        var root = ConfigJsonReader.Parse(File.ReadAllBytes(example), [])!;
        Assert.Equal("./pptp-gateway.schema.json", root["$schema"]!.Text);
    }

    [Fact]
    public void Table_defaults_are_the_bound_defaults()
    {
        var config = Load("""{ "server": { "localAddress": "172.16.0.1", "pool": ["172.16.0.10-20"] }, "clients": [ { "name": "c", "server": "h", "user": "u", "password": "p" } ] }""").Config!;
        Assert.Equal(ConfigKeys.Get("server.maxSessions").Default, config.Server!.MaxSessions);
        Assert.Equal(ConfigKeys.Get("server.lockout.failures").Default, config.Server.Lockout.Failures);
        Assert.Equal((double)(int)ConfigKeys.Get("server.lockout.durationSeconds").Default!, config.Server.Lockout.Duration.TotalSeconds);
        Assert.Equal(new[] { "mschapv2" }, (string[])ConfigKeys.Get("server.authMethods").Default!);
        Assert.Equal((int[])ConfigKeys.Get("server.mppe.keyLengths").Default!, config.Server.Mppe.KeyLengths);
        Assert.Equal(ConfigKeys.Get("server.mppe.required").Default, config.Server.Mppe.Required);
        Assert.Equal(ConfigKeys.Get("clients[].mppe.allowStateful").Default, config.Clients[0].Mppe.AllowStateful);
        Assert.Equal(ConfigKeys.Get("clients[].redial.jitter").Default, config.Clients[0].Redial.Jitter);
        Assert.Equal(ConfigKeys.Get("ppp.mru").Default, config.Ppp.Mru);
        Assert.Equal(ConfigKeys.Get("tun.clientPrefix").Default, config.Tun.ClientPrefix);
        Assert.Equal(true, ConfigKeys.Get("clients[].mppe.allowStateful").Default);
        Assert.Equal("factory-reset", ConfigKeys.Get("board.buttons.button1.veryLong").Default);
        Assert.Equal("none", ConfigKeys.Get("board.buttons.button2.long").Default);
        Assert.Equal(new Firmware.Gateway.Board.BoardOptions(), config.Board);
        Assert.Equal(GatewayConfig.Default.Ppp, config.Ppp);
    }

    private static void CollectKeys(JsonElement schema, string pattern, ISet<string> keys)
    {
        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                var path = pattern.Length == 0 ? property.Name : pattern + "." + property.Name;
                keys.Add(path);
                CollectKeys(property.Value, path, keys);
            }
        }
        if (schema.TryGetProperty("items", out var items))
        {
            CollectKeys(items, pattern + "[]", keys);
        }
    }

    private static void CheckDescriptions(JsonElement schema, string path, List<string> failures)
    {
        if (!schema.TryGetProperty("properties", out var properties))
        {
            return;
        }
        foreach (var property in properties.EnumerateObject())
        {
            var childPath = path + "." + property.Name;
            if (!property.Value.TryGetProperty("description", out var d) || string.IsNullOrWhiteSpace(d.GetString()))
            {
                failures.Add(childPath + " has no description");
            }
            if (!property.Value.TryGetProperty("type", out _))
            {
                failures.Add(childPath + " has no type");
            }
            CheckDescriptions(property.Value, childPath, failures);
            if (property.Value.TryGetProperty("items", out var items))
            {
                CheckDescriptions(items, childPath + "[]", failures);
            }
        }
    }
}
