using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// Finds keys the gateway does not know, through the key/value view Microsoft.Extensions.Configuration.Json
/// builds of the file ("server:users:0:name"), and warns with the line and a did-you-mean. The view is built
/// from the parsed tree (duplicates already dropped), so it always loads.
/// </summary>
internal static class UnknownKeyCheck
{
    public static void Run(ConfigNode root, List<ConfigDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var nodes = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        Index(root, nodes);

        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            Write(root, writer);
        }
        json.Position = 0;
        var view = new ConfigurationBuilder().AddJsonStream(json).Build();

        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (flatKey, _) in view.AsEnumerable())
        {
            var unknown = FirstUnknown(flatKey.Split(ConfigurationPath.KeyDelimiter), nodes);
            if (unknown is null || !reported.Add(unknown.Value.Path))
            {
                continue;
            }
            var (path, parentPattern, name) = unknown.Value;
            var node = nodes.GetValueOrDefault(path);
            var suggestion = ConfigBinder.Suggest(name, ConfigKeys.ChildNames(parentPattern));
            diagnostics.Add(new(ConfigSeverity.Warning, path, node?.Line ?? 0, node?.Column ?? 0,
                $"unknown key '{name}' (ignored){suggestion}"));
        }
    }

    /// <summary>Walks one flattened key down the key table; returns the first segment the table lacks.</summary>
    private static (string Path, string ParentPattern, string Name)? FirstUnknown(string[] segments, Dictionary<string, ConfigNode> nodes)
    {
        var path = "";
        var pattern = "";
        ConfigKey? current = null;
        foreach (var segment in segments)
        {
            var itemPath = $"{path}[{segment}]";
            if (current is { Kind: ConfigValueKind.ObjectArray or ConfigValueKind.StringArray or ConfigValueKind.IntegerArray }
                && nodes.ContainsKey(itemPath))
            {
                if (current.Kind != ConfigValueKind.ObjectArray)
                {
                    return null;
                }
                path = itemPath;
                pattern += "[]";
                continue;
            }

            if (current is not null && current.Kind is not (ConfigValueKind.Object or ConfigValueKind.ObjectArray))
            {
                // A scalar key holding an object: the binder reports the wrong type.
                return null;
            }

            var childPattern = ConfigNode.ChildPath(pattern, segment);
            var childPath = ConfigNode.ChildPath(path, segment);
            if (!ConfigKeys.TryGet(childPattern, out var key))
            {
                return (childPath, pattern, segment);
            }
            current = key;
            path = childPath;
            pattern = childPattern;
        }
        return null;
    }

    private static void Index(ConfigNode node, Dictionary<string, ConfigNode> nodes)
    {
        nodes.TryAdd(node.Path, node);
        foreach (var (_, child) in node.Properties)
        {
            Index(child, nodes);
        }
        foreach (var item in node.Items)
        {
            Index(item, nodes);
        }
    }

    private static void Write(ConfigNode node, Utf8JsonWriter writer)
    {
        switch (node.Kind)
        {
            case ConfigNodeKind.Object:
                writer.WriteStartObject();
                foreach (var (name, child) in node.Properties)
                {
                    writer.WritePropertyName(name);
                    Write(child, writer);
                }
                writer.WriteEndObject();
                break;
            case ConfigNodeKind.Array:
                writer.WriteStartArray();
                foreach (var item in node.Items)
                {
                    Write(item, writer);
                }
                writer.WriteEndArray();
                break;
            case ConfigNodeKind.String:
                writer.WriteStringValue(node.Text);
                break;
            case ConfigNodeKind.Number:
                writer.WriteRawValue(node.Text!, skipInputValidation: true);
                break;
            case ConfigNodeKind.Boolean:
                writer.WriteBooleanValue(node.Text == "true");
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
