namespace Firmware.Gateway.Configuration;

/// <summary>The JSON value kinds a configuration tree holds.</summary>
internal enum ConfigNodeKind
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>
/// One JSON value read from the configuration file, with the path and 1-based line and column of where it is
/// named (the property name for object members, the value itself for array items and the root).
/// </summary>
internal sealed class ConfigNode
{
    private readonly List<KeyValuePair<string, ConfigNode>>? _properties;
    private readonly List<ConfigNode>? _items;
    private Dictionary<string, ConfigNode>? _byName;

    public ConfigNode(ConfigNodeKind kind, string path, int line, int column, string? text = null)
    {
        Kind = kind;
        Path = path;
        Line = line;
        Column = column;
        Text = text;
        if (kind == ConfigNodeKind.Object)
        {
            _properties = [];
        }
        else if (kind == ConfigNodeKind.Array)
        {
            _items = [];
        }
    }

    public ConfigNodeKind Kind { get; }

    /// <summary>server.users[2].name; empty for the root.</summary>
    public string Path { get; }

    public int Line { get; }

    public int Column { get; }

    /// <summary>The unescaped string, the number as written, or "true"/"false"; null for the rest.</summary>
    public string? Text { get; }

    /// <summary>Object members in file order, first occurrence only (duplicates are reported by the reader).</summary>
    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Properties => _properties ?? [];

    public IReadOnlyList<ConfigNode> Items => _items ?? [];

    public ConfigNode? this[string name]
    {
        get
        {
            if (_byName is not null)
            {
                return _byName.GetValueOrDefault(name);
            }
            foreach (var pair in Properties)
            {
                if (string.Equals(pair.Key, name, StringComparison.Ordinal))
                {
                    return pair.Value;
                }
            }
            return null;
        }
    }

    internal void AddProperty(string name, ConfigNode value)
    {
        _properties!.Add(new(name, value));

        // Lookups stay constant-time however many (unknown) members an object has.
        if (_byName is not null)
        {
            _byName.TryAdd(name, value);
        }
        else if (_properties.Count > 8)
        {
            _byName = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
            foreach (var (key, node) in _properties)
            {
                _byName.TryAdd(key, node);
            }
        }
    }

    internal void AddItem(ConfigNode value) => _items!.Add(value);

    /// <summary>How a person would name this kind in a "expected X, got Y" message.</summary>
    public string KindDescription => Kind switch
    {
        ConfigNodeKind.Object => "an object { }",
        ConfigNodeKind.Array => "a list [ ]",
        ConfigNodeKind.String => "a string",
        ConfigNodeKind.Number => "a number",
        ConfigNodeKind.Boolean => "true/false",
        _ => "null",
    };

    public static string ChildPath(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    public static string ItemPath(string parent, int index) => $"{parent}[{index}]";
}
