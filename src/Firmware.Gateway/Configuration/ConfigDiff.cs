namespace Firmware.Gateway.Configuration;

/// <summary>
/// What changed between two configurations, so applying a reload touches only that: users and clients by
/// name, and a flag per section. Server settings exclude the users (a new user does not restart the listener).
/// </summary>
internal sealed record ConfigDiff(
    ValueList<string> UsersAdded,
    ValueList<string> UsersRemoved,
    ValueList<string> UsersChanged,
    ValueList<string> ClientsAdded,
    ValueList<string> ClientsRemoved,
    ValueList<string> ClientsChanged,
    bool ServerChanged,
    bool PppChanged,
    bool TunChanged,
    bool ForwardingChanged,
    bool HooksChanged,
    bool BoardChanged,
    bool LoggingChanged)
{
    public bool IsEmpty =>
        UsersAdded.Count + UsersRemoved.Count + UsersChanged.Count + ClientsAdded.Count + ClientsRemoved.Count + ClientsChanged.Count == 0
        && !ServerChanged && !PppChanged && !TunChanged && !ForwardingChanged && !HooksChanged && !BoardChanged && !LoggingChanged;

    public static ConfigDiff Between(GatewayConfig before, GatewayConfig after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var (usersAdded, usersRemoved, usersChanged) = ByName(
            before.Server?.Users ?? ValueList<UserOptions>.Empty, after.Server?.Users ?? ValueList<UserOptions>.Empty, u => u.Name);
        var (clientsAdded, clientsRemoved, clientsChanged) = ByName(before.Clients, after.Clients, c => c.Name);
        return new ConfigDiff(
            usersAdded, usersRemoved, usersChanged, clientsAdded, clientsRemoved, clientsChanged,
            !Equals(before.Server?.WithoutUsers(), after.Server?.WithoutUsers()),
            before.Ppp != after.Ppp,
            before.Tun != after.Tun,
            before.Forwarding != after.Forwarding,
            before.Hooks != after.Hooks,
            before.Board != after.Board,
            before.Logging != after.Logging);
    }

    private static (ValueList<string> Added, ValueList<string> Removed, ValueList<string> Changed) ByName<T>(
        IReadOnlyList<T> before, IReadOnlyList<T> after, Func<T, string> name)
        where T : class
    {
        var old = new Dictionary<string, T>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in before)
        {
            old.TryAdd(name(item), item);
        }
        var added = new List<string>();
        var changed = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in after)
        {
            var key = name(item);
            seen.Add(key);
            if (!old.TryGetValue(key, out var previous))
            {
                added.Add(key);
            }
            else if (!Equals(previous, item))
            {
                changed.Add(key);
            }
        }
        var removed = old.Keys.Where(k => !seen.Contains(k)).ToList();
        return (added.ToValueList(), removed.ToValueList(), changed.ToValueList());
    }

    /// <summary>"users +alice -bob ~carol; clients +office; server; board". Names only: nothing secret.</summary>
    public override string ToString()
    {
        if (IsEmpty)
        {
            return "no changes";
        }
        var parts = new List<string>();
        AddNamed(parts, "users", UsersAdded, UsersRemoved, UsersChanged);
        AddNamed(parts, "clients", ClientsAdded, ClientsRemoved, ClientsChanged);
        AddFlag(parts, ServerChanged, "server settings");
        AddFlag(parts, PppChanged, "ppp");
        AddFlag(parts, TunChanged, "tun");
        AddFlag(parts, ForwardingChanged, "forwarding");
        AddFlag(parts, HooksChanged, "hooks");
        AddFlag(parts, BoardChanged, "board");
        AddFlag(parts, LoggingChanged, "logging");
        return string.Join("; ", parts);
    }

    private static void AddNamed(List<string> parts, string what, ValueList<string> added, ValueList<string> removed, ValueList<string> changed)
    {
        var names = added.Select(n => "+" + n).Concat(removed.Select(n => "-" + n)).Concat(changed.Select(n => "~" + n)).ToList();
        if (names.Count > 0)
        {
            parts.Add(what + " " + string.Join(" ", names));
        }
    }

    private static void AddFlag(List<string> parts, bool flag, string what)
    {
        if (flag)
        {
            parts.Add(what);
        }
    }
}
