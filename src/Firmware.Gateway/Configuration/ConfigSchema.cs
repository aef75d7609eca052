using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// Generates the JSON Schema (draft 2020-12) for the configuration file from <see cref="ConfigKeys"/>, so the
/// schema VS Code uses and the binder cannot drift apart. `pptp-gateway print-schema` prints it; the copy in
/// board/common/pptp-gateway.schema.json is this output.
/// </summary>
internal static class ConfigSchema
{
    public static string Generate()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            writer.WriteStartObject();
            writer.WriteString("$schema", "https://json-schema.org/draft/2020-12/schema");
            writer.WriteString("title", "pptp-gateway configuration");
            writer.WriteString("description",
                "The pptp-gateway configuration file on the board's boot partition. Defaults are the strongest settings PPTP allows.");
            WriteObjectBody(writer, "");
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteObjectBody(Utf8JsonWriter writer, string pattern)
    {
        writer.WriteString("type", "object");
        writer.WriteBoolean("additionalProperties", false);
        var children = Children(pattern).ToList();
        writer.WriteStartObject("properties");
        foreach (var key in children)
        {
            writer.WriteStartObject(key.Path[(pattern.Length == 0 ? 0 : pattern.Length + 1)..]);
            WriteKey(writer, key);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        var required = children.Where(k => k.Required).ToList();
        if (required.Count > 0)
        {
            writer.WriteStartArray("required");
            foreach (var key in required)
            {
                writer.WriteStringValue(key.Path[(key.Path.LastIndexOf('.') + 1)..]);
            }
            writer.WriteEndArray();
        }
    }

    private static void WriteKey(Utf8JsonWriter writer, ConfigKey key)
    {
        writer.WriteString("description", key.Description);
        switch (key.Kind)
        {
            case ConfigValueKind.Object:
                WriteObjectBody(writer, key.Path);
                return;
            case ConfigValueKind.ObjectArray:
                writer.WriteString("type", "array");
                writer.WriteStartObject("items");
                WriteObjectBody(writer, key.Path + "[]");
                writer.WriteEndObject();
                return;
            case ConfigValueKind.StringArray:
            case ConfigValueKind.IntegerArray:
                writer.WriteString("type", "array");
                writer.WriteStartObject("items");
                WriteScalar(writer, key, key.Kind == ConfigValueKind.StringArray ? "string" : "integer");
                writer.WriteEndObject();
                if (key.Kind == ConfigValueKind.StringArray || key.Allowed is not null)
                {
                    writer.WriteBoolean("uniqueItems", key.Allowed is not null);
                }
                break;
            case ConfigValueKind.String:
                WriteScalar(writer, key, "string");
                break;
            case ConfigValueKind.Integer:
                WriteScalar(writer, key, "integer");
                break;
            case ConfigValueKind.Number:
                WriteScalar(writer, key, "number");
                break;
            default:
                writer.WriteString("type", "boolean");
                break;
        }

        if (key.Default is not null)
        {
            writer.WritePropertyName("default");
            WriteValue(writer, key.Default);
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, ConfigKey key, string type)
    {
        writer.WriteString("type", type);
        if (key.Allowed is not null)
        {
            writer.WriteStartArray("enum");
            foreach (var value in key.Allowed)
            {
                if (type == "integer")
                {
                    writer.WriteNumberValue(int.Parse(value, CultureInfo.InvariantCulture));
                }
                else
                {
                    writer.WriteStringValue(value);
                }
            }
            writer.WriteEndArray();
        }
        if (key.Kind is not (ConfigValueKind.StringArray or ConfigValueKind.IntegerArray))
        {
            if (key.Minimum is { } min)
            {
                writer.WriteNumber("minimum", min);
            }
            if (key.Maximum is { } max)
            {
                writer.WriteNumber("maximum", max);
            }
            if (key.Pattern is not null)
            {
                writer.WriteString("pattern", key.Pattern);
            }
            if (key.Required && type == "string")
            {
                writer.WriteNumber("minLength", 1);
            }
            if (type == "string")
            {
                writer.WriteNumber("maxLength", key.MaxLength);
            }
        }
    }

    private static void WriteValue(Utf8JsonWriter writer, object value)
    {
        switch (value)
        {
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case string[] strings:
                writer.WriteStartArray();
                foreach (var s in strings)
                {
                    writer.WriteStringValue(s);
                }
                writer.WriteEndArray();
                break;
            case int[] numbers:
                writer.WriteStartArray();
                foreach (var n in numbers)
                {
                    writer.WriteNumberValue(n);
                }
                writer.WriteEndArray();
                break;
            default:
                throw new InvalidOperationException($"ConfigKeys default of type {value.GetType().Name} has no JSON form");
        }
    }

    /// <summary>Keys directly under a pattern ("" is the root, "server.users[]" an item of the users list).</summary>
    private static IEnumerable<ConfigKey> Children(string pattern)
    {
        var prefix = pattern.Length == 0 ? "" : pattern + ".";
        return ConfigKeys.All.Where(k =>
            k.Path.StartsWith(prefix, StringComparison.Ordinal)
            && k.Path.Length > prefix.Length
            && !k.Path[prefix.Length..].Contains('.', StringComparison.Ordinal)
            && !k.Path[prefix.Length..].StartsWith('['));
    }
}
