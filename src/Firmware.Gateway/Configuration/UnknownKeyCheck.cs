namespace Firmware.Gateway.Configuration;

/// <summary>
/// Finds keys the gateway does not know by walking the parsed tree beside the key table, and warns with the
/// line and a did-you-mean. One pass over the tree: linear in the file, and any key text (':' included, which
/// a flattened "a:b" key view would confuse with nesting) is just a name.
/// </summary>
internal static class UnknownKeyCheck
{
    /// <summary>Names longer than this get no did-you-mean: no key is that long, and edit distance is quadratic.</summary>
    private const int MaxSuggestLength = 64;

    public static void Run(ConfigNode root, List<ConfigDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(diagnostics);
        if (root.Kind == ConfigNodeKind.Object)
        {
            CheckObject(root, "", diagnostics);
        }
    }

    private static void CheckObject(ConfigNode node, string pattern, List<ConfigDiagnostic> diagnostics)
    {
        foreach (var (name, child) in node.Properties)
        {
            var childPattern = ConfigNode.ChildPath(pattern, name);
            if (!ConfigKeys.TryGet(childPattern, out var key))
            {
                var suggestion = name.Length <= MaxSuggestLength ? ConfigBinder.Suggest(name, ConfigKeys.ChildNames(pattern)) : "";
                diagnostics.Add(new(ConfigSeverity.Warning, child.Path, child.Line, child.Column,
                    $"unknown key '{name}' (ignored){suggestion}"));
                continue;
            }

            // A value of the wrong shape is the binder's to report; only objects where objects belong are walked.
            if (key.Kind == ConfigValueKind.Object && child.Kind == ConfigNodeKind.Object)
            {
                CheckObject(child, childPattern, diagnostics);
            }
            else if (key.Kind == ConfigValueKind.ObjectArray && child.Kind == ConfigNodeKind.Array)
            {
                foreach (var item in child.Items)
                {
                    if (item.Kind == ConfigNodeKind.Object)
                    {
                        CheckObject(item, childPattern + "[]", diagnostics);
                    }
                }
            }
        }
    }
}
