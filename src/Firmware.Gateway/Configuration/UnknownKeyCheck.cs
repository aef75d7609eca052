namespace Firmware.Gateway.Configuration;

/// <summary>
/// Finds keys the gateway does not know by walking the parsed tree beside the key table, and warns with the
/// line and a did-you-mean. One pass over the tree: linear in the file, and any key text (':' included, which
/// a flattened "a:b" key view would confuse with nesting) is just a name. This replaced
/// Microsoft.Extensions.Configuration.Json, on the design card: its flattened key view threw FormatException
/// on a "x:y" key beside a nested "x.y" (a crash at boot from one typo) and grew quadratically with the file,
/// while our own reader already has what the checks need (line numbers, every node).
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
            CheckObject(root, "", diagnostics, new Dictionary<string, string[]>(StringComparer.Ordinal));
        }
    }

    private static void CheckObject(ConfigNode node, string pattern, List<ConfigDiagnostic> diagnostics, Dictionary<string, string[]> known)
    {
        foreach (var (name, child) in node.Properties)
        {
            var childPattern = ConfigNode.ChildPath(pattern, name);
            if (!ConfigKeys.TryGet(childPattern, out var key))
            {
                if (!known.TryGetValue(pattern, out var candidates))
                {
                    candidates = [.. ConfigKeys.ChildNames(pattern)];
                    known.Add(pattern, candidates);
                }
                var suggestion = name.Length <= MaxSuggestLength ? ConfigBinder.Suggest(name, candidates) : "";
                diagnostics.Add(new(ConfigSeverity.Warning, child.Path, child.Line, child.Column,
                    $"unknown key '{name}' (ignored){suggestion}"));
                continue;
            }

            // A value of the wrong shape is the binder's to report; only objects where objects belong are walked.
            if (key.Kind == ConfigValueKind.Object && child.Kind == ConfigNodeKind.Object)
            {
                CheckObject(child, childPattern, diagnostics, known);
            }
            else if (key.Kind == ConfigValueKind.ObjectArray && child.Kind == ConfigNodeKind.Array)
            {
                foreach (var item in child.Items)
                {
                    if (item.Kind == ConfigNodeKind.Object)
                    {
                        CheckObject(item, childPattern + "[]", diagnostics, known);
                    }
                }
            }
        }
    }
}
