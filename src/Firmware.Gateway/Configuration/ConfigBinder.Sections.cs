using System.Globalization;
using System.Net;
using System.Text;
using Firmware.Gateway.Board;
using Firmware.Platform.Gpio;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Dhcp;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Configuration;

internal sealed partial class ConfigBinder
{
    private GatewayConfig BindRoot(ConfigNode rootNode)
    {
        var root = new Scope(rootNode, "", "", rootNode.Line, rootNode.Column);
        _ = String(root, "$schema");
        var logging = BindLogging(Section(root, "logging"));
        var tun = BindTun(Section(root, "tun"));
        var localNetworks = _networks.GetLocalNetworks()
            .Where(n => n.Network.PrefixLength < 32
                && !n.Interface.StartsWith(tun.ServerPrefix, StringComparison.Ordinal)
                && !n.Interface.StartsWith(tun.ClientPrefix, StringComparison.Ordinal))
            .ToList();
        var server = BindServer(Section(root, "server"), localNetworks);
        var clients = BindClients(root, tun, server, localNetworks);
        var ppp = BindPpp(Section(root, "ppp"));
        var forwarding = BindForwarding(Section(root, "forwarding"));
        var hooks = BindHooks(Section(root, "hooks"));
        var board = BindBoard(Section(root, "board"));

        if (server is null && clients.Count == 0)
        {
            Warning("", 0, 0, "no server and no clients: the gateway will run but do nothing");
        }
        return new GatewayConfig(server, clients, ppp, tun, forwarding, hooks, board, logging);
    }

    // ---- Server ----

    private ServerOptions? BindServer(Scope scope, List<LocalNetwork> localNetworks)
    {
        if (scope.Node is null)
        {
            return null;
        }

        var enabled = Bool(scope, "enabled");
        var listen = Address(scope, "listen") ?? IPAddress.Any;
        var (localAddress, localNode) = AddressWithNode(scope, "localAddress");
        var pool = BindPool(scope, localAddress, localNode, localNetworks);
        var dns = AddressList(scope, "dns");
        var wins = AddressList(scope, "wins");
        var pushRoutes = BindPushRoutes(scope);
        var (maxSessions, maxSessionsNode) = OptionalIntWithNode(scope, "maxSessions");
        var maxConnections = Int(scope, "maxConnectionsPerSource");
        var mppe = BindMppe(Section(scope, "mppe"));
        var authMethods = AuthMethods(scope, mppe);
        var lockoutScope = Section(scope, "lockout");
        var lockout = new LockoutPolicy(
            Int(lockoutScope, "failures"),
            TimeSpan.FromSeconds(Int(lockoutScope, "windowSeconds")),
            TimeSpan.FromSeconds(Int(lockoutScope, "durationSeconds")));

        var poolSize = pool.Sum(r => r.Count);
        var sessions = maxSessions ?? (int)ConfigKeys.Get("server.maxSessions").Default!;
        if (pool.Count > 0 && poolSize < sessions)
        {
            var node = maxSessionsNode;
            var message = $"the pool has {poolSize} address(es) but maxSessions is {sessions}; sessions beyond {poolSize} will be refused";
            if (node is null)
            {
                Warning(scope.Path + ".pool", scope.Node["pool"]?.Line ?? scope.Line, 1, message);
            }
            else
            {
                Warning(node, message);
            }
        }

        var users = BindUsers(scope, localAddress, authMethods, localNetworks);
        var radius = BindRadius(Section(scope, "radius"), authMethods);
        var localMethods = authMethods.Where(m => radius is null || !radius.Methods.Contains(m)).ToList();
        if (enabled && users.Count == 0 && radius is null)
        {
            Warning(scope, "no users: nobody can connect to the server");
        }
        else if (enabled && users.Count == 0 && localMethods.Count > 0)
        {
            Warning(scope, $"no users, and RADIUS does not check {string.Join(" or ", localMethods.Select(AuthName))}: nobody can log in with it");
        }

        return new ServerOptions(enabled, listen, localAddress ?? IPAddress.Any, pool, dns, wins, pushRoutes, sessions, maxConnections,
            authMethods, mppe, lockout, users, radius);
    }

    /// <summary>The longest a login may wait for RADIUS: below the authenticator's verify timeout (25 s) and the
    /// 30 s login deadline, and about what a Windows client waits for its CHAP answer.</summary>
    internal static readonly TimeSpan MaxRadiusWait = TimeSpan.FromSeconds(20);

    /// <summary>Longest secret file read: a secret is one short line.</summary>
    private const int MaxSecretFileBytes = 4096;

    private RadiusOptions? BindRadius(Scope scope, ValueList<AuthMethod> serverMethods)
    {
        if (scope.Node is null)
        {
            return null;
        }
        var servers = new List<RadiusServerOptions>();
        var serverScopes = ObjectList(scope, "servers");
        if (Present(scope, "servers") is null)
        {
            Error(scope.Path + ".servers", scope.Line, scope.Column, "missing: the RADIUS servers, e.g. [{ \"address\": \"192.168.1.2\", \"secret\": \"...\" }]");
        }
        else if (serverScopes.Count == 0 && scope.Node["servers"]!.Items.Count == 0)
        {
            Error(scope.Node["servers"]!, "empty: give at least one RADIUS server");
        }
        foreach (var server in serverScopes)
        {
            var address = Address(server, "address");
            var port = Int(server, "port");
            var accountingPort = Int(server, "accountingPort");
            var secret = RadiusSecret(server);
            if (address is null || secret is null)
            {
                continue;
            }
            var endPoint = new IPEndPoint(address, port);
            if (servers.Any(s => s.EndPoint.Equals(endPoint)))
            {
                Error(server, $"{endPoint} is listed twice");
                continue;
            }
            servers.Add(new RadiusServerOptions(endPoint, secret, new IPEndPoint(address, accountingPort)));
        }

        var nasIp = Address(scope, "nasIpAddress");
        var nasIdentifier = String(scope, "nasIdentifier");
        if (nasIdentifier is { Length: 0 } && Present(scope, "nasIdentifier") is { } emptyNode)
        {
            Error(emptyNode, "empty: leave it out or give a name");
        }
        if (string.IsNullOrEmpty(nasIdentifier) && nasIp is null)
        {
            nasIdentifier = "pptp-gateway"; // RFC 2865 requires one of the two in every Access-Request
        }

        var methods = serverMethods;
        if (StringList(scope, "authMethods") is { } listed)
        {
            var chosen = new List<AuthMethod>();
            foreach (var (text, node) in listed)
            {
                if (!Protocol.Auth.AuthMethods.TryParseConfigName(text, out var method) || chosen.Contains(method))
                {
                    continue; // the schema refused an unknown name, with its line
                }
                if (!serverMethods.Contains(method))
                {
                    Warning(node, $"{text} is not in server.authMethods, so no client logs in with it");
                    continue;
                }
                chosen.Add(method);
            }
            if (chosen.Count == 0 && listed.Count == 0 && scope.Node["authMethods"] is { Items.Count: 0 } empty)
            {
                Error(empty, "empty: leave it out to send every login to RADIUS");
            }
            methods = chosen.ToValueList();
        }

        var dynamicAuthorization = BindDynamicAuthorization(Section(scope, "dynamicAuthorization"));
        var radius = new RadiusOptions(servers.ToValueList(), TimeSpan.FromSeconds(Int(scope, "timeoutSeconds")), Int(scope, "attempts"),
            string.IsNullOrEmpty(nasIdentifier) ? null : nasIdentifier, nasIp, methods, Bool(scope, "fallbackToLocal"),
            BindRadiusAccounting(Section(scope, "accounting")), dynamicAuthorization);
        if (radius.WorstCaseWait > MaxRadiusWait)
        {
            Error(scope, $"with {servers.Count} server(s), {radius.Attempts} attempt(s) each and timeoutSeconds {radius.Timeout.TotalSeconds:0}, a login could wait {radius.WorstCaseWait.TotalSeconds:0} s for RADIUS; at most {MaxRadiusWait.TotalSeconds:0} s fits a login (lower attempts or timeoutSeconds)");
        }
        return radius;
    }

    private RadiusAccountingOptions? BindRadiusAccounting(Scope scope)
    {
        if (!Bool(scope, "enabled"))
        {
            return null;
        }
        var interim = Int(scope, "interimIntervalSeconds");
        if (interim is > 0 and < (int)Protocol.Radius.RadiusVerdicts.MinInterimSeconds && Present(scope, "interimIntervalSeconds") is { } node)
        {
            // RFC 2869 section 5.16 asks for 600 s or more; below a minute every session loads the server.
            Warning(node, $"{interim} s is short: RFC 2869 asks for at least {Protocol.Radius.RadiusVerdicts.MinInterimSeconds} s between Interim-Updates (600 s is usual)");
        }
        return new RadiusAccountingOptions(interim > 0 ? TimeSpan.FromSeconds(interim) : null);
    }

    /// <summary>server.radius.dynamicAuthorization: null when absent; clients are checked even when it is off.</summary>
    private DynamicAuthorizationOptions? BindDynamicAuthorization(Scope scope)
    {
        if (scope.Node is null)
        {
            return null;
        }
        var enabled = Bool(scope, "enabled");
        var listen = Address(scope, "listen") ?? IPAddress.Any;
        var port = Int(scope, "port");
        var clients = new List<DynamicAuthorizationClientOptions>();
        var clientScopes = ObjectList(scope, "clients");
        foreach (var client in clientScopes)
        {
            var (address, addressNode) = AddressWithNode(client, "address");
            var secret = RadiusSecret(client);
            if (address is null || secret is null)
            {
                continue;
            }
            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.Broadcast))
            {
                Error(addressNode!, $"{address} is not one client's address");
                continue;
            }
            if (clients.Any(c => c.Address.Equals(address)))
            {
                Error(client, $"{address} is listed twice");
                continue;
            }
            clients.Add(new DynamicAuthorizationClientOptions(address, secret));
        }
        if (enabled && clientScopes.Count == 0 && Present(scope, "clients") is not { Items.Count: > 0 })
        {
            var node = Present(scope, "clients");
            var message = "enabled, but no clients: list the RADIUS servers allowed to send Disconnect and CoA requests, e.g. [{ \"address\": \"192.168.1.2\", \"secret\": \"...\" }]";
            if (node is null)
            {
                Error(scope.Path + ".clients", scope.Line, scope.Column, message);
            }
            else
            {
                Error(node, message);
            }
        }
        return new DynamicAuthorizationOptions(enabled, listen, port, clients.ToValueList());
    }

    /// <summary>secret xor secretFile. A file is read now (so a missing one fails the config, not a login) and its
    /// first line is the secret. The value never reaches a message.</summary>
    private ConfigSecret? RadiusSecret(Scope scope)
    {
        var (secret, secretNode) = StringWithNode(scope, "secret");
        var (file, fileNode) = StringWithNode(scope, "secretFile");
        if (secretNode is not null && fileNode is not null)
        {
            Error(fileNode, "give secret or secretFile, not both");
            return null;
        }
        if (secretNode is null && fileNode is null)
        {
            Error(scope, "needs a secret or a secretFile");
            return null;
        }
        if (secret is not null)
        {
            if (secret.Length == 0)
            {
                Error(secretNode!, "empty");
                return null;
            }
            return ConfigSecret.FromPassword(secret);
        }
        if (file is null)
        {
            return null;
        }
        if (!Path.IsPathFullyQualified(file))
        {
            Error(fileNode!, $"'{file}' is not an absolute path");
            return null;
        }
        string text;
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read);
            var buffer = new byte[MaxSecretFileBytes + 1];
            var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (length > MaxSecretFileBytes)
            {
                Error(fileNode!, $"{file} is longer than {MaxSecretFileBytes} bytes; it should hold one line, the secret");
                return null;
            }
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            Error(fileNode!, $"cannot read {file}: {e.Message}");
            return null;
        }
        var firstLine = text.Split('\n', 2)[0].TrimEnd('\r');
        if (firstLine.Length == 0)
        {
            Error(fileNode!, $"{file} is empty; its first line should be the secret");
            return null;
        }
        if (firstLine.Length > RadiusWire.MaxSharedSecretLength)
        {
            Error(fileNode!, $"the secret in {file} is longer than {RadiusWire.MaxSharedSecretLength} characters");
            return null;
        }
        return ConfigSecret.FromPassword(firstLine);
    }

    private ValueList<AddressRange> BindPool(Scope scope, IPAddress? localAddress, ConfigNode? localNode, List<LocalNetwork> localNetworks)
    {
        var entries = StringList(scope, "pool");
        if (entries is null)
        {
            if (Present(scope, "pool") is null)
            {
                Error(scope.Path + ".pool", scope.Line, scope.Column, "missing: the addresses to hand to clients, e.g. [\"192.168.100.10-192.168.100.50\"]");
            }
            return ValueList<AddressRange>.Empty;
        }
        if (entries.Count == 0 && scope.Node!["pool"]!.Items.Count == 0)
        {
            Error(scope.Node["pool"]!, "empty: give at least one address range");
        }

        var ranges = new List<(AddressRange Range, ConfigNode Node)>();
        foreach (var (text, node) in entries)
        {
            var problem = AddressRange.TryParse(text, out var range);
            if (problem is not null)
            {
                Error(node, problem);
                continue;
            }
            if (range.Count > 65536)
            {
                Error(node, $"{text} holds {range.Count} addresses; a pool may hold at most 65536");
                continue;
            }
            foreach (var (other, otherNode) in ranges)
            {
                if (other.Overlaps(range))
                {
                    Error(node, $"{text} overlaps {otherNode.Path} ({otherNode.Text}, line {otherNode.Line})");
                }
            }
            if (localAddress is not null && range.Contains(AddressRange.ToNumber(localAddress)))
            {
                Error(node, $"{text} contains the server's own tunnel address {localAddress} (server.localAddress, line {localNode?.Line})");
            }
            foreach (var lan in localNetworks)
            {
                if (AddressRange.FromNetwork(lan.Network).Overlaps(range))
                {
                    Error(node, $"{text} overlaps the LAN {lan.Network} on {lan.Interface}");
                }
            }
            ranges.Add((range, node));
        }
        return ranges.Select(r => r.Range).ToValueList();
    }

    private ValueList<UserOptions> BindUsers(
        Scope server, IPAddress? localAddress, ValueList<AuthMethod> authMethods, List<LocalNetwork> localNetworks)
    {
        var users = new List<UserOptions>();
        var names = new Dictionary<string, Scope>(StringComparer.OrdinalIgnoreCase);
        var addresses = new Dictionary<IPAddress, Scope>();
        var needsPassword = authMethods.Where(m => m is AuthMethod.Pap or AuthMethod.ChapMd5).ToList();
        foreach (var user in ObjectList(server, "users"))
        {
            var (name, nameNode) = StringWithNode(user, "name");
            if (name is not null && name.Length == 0)
            {
                Error(nameNode!, "empty");
            }
            else if (name is not null && !names.TryAdd(name, user))
            {
                var first = names[name];
                Error(nameNode!, $"'{name}' is also {first.Path}.name (line {first.Line}); user names must be unique (letter case is ignored)");
            }

            var secret = Secret(user);
            var (address, addressNode) = AddressWithNode(user, "address");
            if (address is not null)
            {
                if (localAddress is not null && address.Equals(localAddress))
                {
                    Error(addressNode!, $"{address} is the server's own tunnel address (server.localAddress)");
                }
                else if (addresses.TryGetValue(address, out var other))
                {
                    Error(addressNode!, $"{address} is also given to {other.Path} (line {other.Line})");
                }
                else
                {
                    addresses.Add(address, user);
                }
                foreach (var lan in localNetworks.Where(n => n.Network.Contains(address)))
                {
                    Error(addressNode!, $"{address} is inside the LAN {lan.Network} on {lan.Interface}");
                }
            }

            PapFits(user, secret, authMethods);
            var enabled = Bool(user, "enabled");
            var maxSessions = Int(user, "maxSessions");
            if (secret is { HasPassword: false, HasNtHash: true } && needsPassword.Count > 0)
            {
                Warning(user, $"has only an ntHash, so {string.Join(" and ", needsPassword.Select(AuthName))} cannot log this user in; MS-CHAP can");
            }
            users.Add(new UserOptions(name ?? "", secret, address, enabled, maxSessions));
        }
        return users.ToValueList();
    }

    /// <summary>password xor ntHash; neither, both, empty or malformed are errors. The value never reaches a message.</summary>
    private ConfigSecret Secret(Scope scope)
    {
        var (password, passwordNode) = StringWithNode(scope, "password");
        var (ntHash, ntHashNode) = StringWithNode(scope, "ntHash");
        var passwordPresent = Present(scope, "password") is not null;
        var ntHashPresent = Present(scope, "ntHash") is not null;
        if (passwordPresent && ntHashPresent)
        {
            Error(scope.Path + ".ntHash", scope.Node!["ntHash"]!.Line, scope.Node["ntHash"]!.Column,
                "give password or ntHash, not both");
            return ConfigSecret.None;
        }
        if (!passwordPresent && !ntHashPresent)
        {
            Error(scope, "needs a password or an ntHash");
            return ConfigSecret.None;
        }
        if (password is not null)
        {
            if (password.Length == 0)
            {
                Error(passwordNode!, "empty");
                return ConfigSecret.None;
            }
            return ConfigSecret.FromPassword(password);
        }
        if (ntHash is not null)
        {
            if (ntHash.Length != 32)
            {
                Error(ntHashNode!, $"must be 32 hex digits (the file has {ntHash.Length} characters)");
                return ConfigSecret.None;
            }
            return ConfigSecret.FromNtHash(Convert.FromHexString(ntHash));
        }
        return ConfigSecret.None;
    }

    /// <summary>PAP carries the password in a one-byte length field: one that cannot fit could never log in.</summary>
    private void PapFits(Scope scope, ConfigSecret secret, ValueList<AuthMethod> authMethods)
    {
        const int MaxPapBytes = 255;
        if (secret.Password is { } password && authMethods.Contains(AuthMethod.Pap)
            && Encoding.UTF8.GetByteCount(password) is var bytes && bytes > MaxPapBytes && Present(scope, "password") is { } node)
        {
            Error(node, $"too long for pap: at most {MaxPapBytes} bytes in UTF-8 when pap is allowed, the file has {bytes}");
        }
    }

    private ValueList<AuthMethod> AuthMethods(Scope scope, MppePolicy mppe)
    {
        var items = StringList(scope, "authMethods");
        if (items is null)
        {
            return ValueList.Of(AuthMethod.MsChapV2);
        }
        if (items.Count == 0)
        {
            if (scope.Node?["authMethods"] is { Items.Count: 0 } empty)
            {
                Error(empty, "empty: allow at least one method, e.g. [\"mschapv2\"]");
            }
            return ValueList.Of(AuthMethod.MsChapV2);
        }

        var methods = new List<AuthMethod>();
        foreach (var (text, node) in items)
        {
            if (!Protocol.Auth.AuthMethods.TryParseConfigName(text, out var method))
            {
                continue; // the schema already refused the name, with its line
            }
            if (methods.Contains(method))
            {
                continue;
            }
            methods.Add(method);
            var risk = Protocol.Auth.AuthMethods.Of(method).Risk;
            if (risk is not null)
            {
                Warning(node, $"weak: {risk}; use mschapv2 only");
            }
            if (mppe.Required && method is AuthMethod.Pap or AuthMethod.ChapMd5)
            {
                Warning(node, $"{text} gives MPPE no keys, so with mppe.required a {text} login cannot bring a tunnel up");
            }
        }
        return methods.ToValueList();
    }

    private MppePolicy BindMppe(Scope scope)
    {
        var required = Bool(scope, "required");
        var lengthsNode = Present(scope, "keyLengths");
        var lengths = IntList(scope, "keyLengths")?.ToList();
        var allowStateless = Bool(scope, "allowStateless");
        var allowStateful = Bool(scope, "allowStateful");
        var preferStateless = Bool(scope, "preferStateless");
        var keyLengths = lengths is null ? MppePolicy.Default.KeyLengths : lengths.Select(l => l.Value).Distinct().Order().ToValueList();

        var requiredNode = Present(scope, "required");
        if (!required)
        {
            Warn(requiredNode, scope, "weak: MPPE is optional, so a tunnel may carry traffic unencrypted");
        }
        if (lengthsNode is { Kind: ConfigNodeKind.Array, Items.Count: 0 })
        {
            Error(lengthsNode, "empty: allow at least one key length, e.g. [128]");
        }
        foreach (var (length, node) in lengths ?? [])
        {
            if (length < 128)
            {
                Warning(node, $"weak: {length}-bit MPPE keys can be brute-forced; allow 128 only");
            }
        }
        if (!allowStateless && !allowStateful)
        {
            Error(Present(scope, "allowStateless") ?? Present(scope, "allowStateful")!,
                "allowStateless and allowStateful are both false: no MPPE mode is left");
        }
        else if (!allowStateless)
        {
            Warn(Present(scope, "allowStateless"), scope,
                "weak: stateful MPPE only; one lost packet stalls the tunnel until a resync, and the key changes only every 256 packets");
        }

        return new MppePolicy(required, keyLengths, allowStateless, allowStateful, preferStateless);
    }

    private void Warn(ConfigNode? node, Scope fallback, string message)
    {
        if (node is not null)
        {
            Warning(node, message);
        }
        else
        {
            Warning(fallback, message);
        }
    }

    internal static string AuthName(AuthMethod method) => Protocol.Auth.AuthMethods.Of(method).ConfigName;

    // ---- Clients ----

    private ValueList<ClientOptions> BindClients(Scope root, TunOptions tun, ServerOptions? server, List<LocalNetwork> localNetworks)
    {
        var clients = new List<ClientOptions>();
        var names = new Dictionary<string, Scope>(StringComparer.OrdinalIgnoreCase);
        var interfaces = new Dictionary<string, Scope>(StringComparer.Ordinal);
        var index = 0;
        foreach (var client in ObjectList(root, "clients"))
        {
            var (name, nameNode) = StringWithNode(client, "name");
            if (name is not null && name.Length == 0)
            {
                Error(nameNode!, "empty");
            }
            else if (name is not null && !names.TryAdd(name, client))
            {
                Error(nameNode!, $"'{name}' is also {names[name].Path}.name (line {names[name].Line}); client names must be unique");
            }

            var enabled = Bool(client, "enabled");
            var (host, hostNode) = StringWithNode(client, "server");
            if (host is not null && Uri.CheckHostName(host) is UriHostNameType.Unknown or UriHostNameType.Basic)
            {
                Error(hostNode!, host.Length == 0 ? "empty" : $"'{host}' is not a host name or IP address");
            }
            var (user, userNode) = StringWithNode(client, "user");
            if (user is { Length: 0 })
            {
                Error(userNode!, "empty");
            }
            var secret = Secret(client);
            var mppe = BindMppe(Section(client, "mppe"));
            var authMethods = AuthMethods(client, mppe);
            PapFits(client, secret, authMethods);

            var redialScope = Section(client, "redial");
            var initialDelay = Number(redialScope, "initialDelaySeconds");
            var maxDelay = Number(redialScope, "maxDelaySeconds");
            var jitter = Number(redialScope, "jitter");
            if (initialDelay > maxDelay)
            {
                Error(Present(redialScope, "initialDelaySeconds") is { } n ? n.Path : redialScope.Path,
                    Present(redialScope, "initialDelaySeconds")?.Line ?? redialScope.Line, 1,
                    $"initialDelaySeconds ({initialDelay.ToString(CultureInfo.InvariantCulture)}) is more than maxDelaySeconds ({maxDelay.ToString(CultureInfo.InvariantCulture)})");
            }

            var defaultRoute = Bool(client, "defaultRoute");
            var routes = BindRoutes(client, server, localNetworks);
            var usePeerDns = Bool(client, "usePeerDns");
            var writeResolvConf = Bool(client, "writeSystemResolvConf");
            if (writeResolvConf && !usePeerDns)
            {
                Warn(Present(client, "writeSystemResolvConf"), client, "has no effect without usePeerDns: true");
            }

            var (interfaceName, interfaceNode) = StringWithNode(client, "interface");
            interfaceName ??= tun.ClientPrefix + index.ToString(CultureInfo.InvariantCulture);
            if (!interfaces.TryAdd(interfaceName, client))
            {
                var at = interfaceNode is null ? client : new Scope(interfaceNode, interfaceNode.Path, "", interfaceNode.Line, interfaceNode.Column);
                Error(at, $"interface {interfaceName} is also used by {interfaces[interfaceName].Path}");
            }

            clients.Add(new ClientOptions(name ?? "", enabled, host ?? "", user ?? "", secret, authMethods, mppe,
                new RedialPolicy(TimeSpan.FromSeconds(initialDelay), TimeSpan.FromSeconds(maxDelay), jitter),
                defaultRoute, routes, usePeerDns, writeResolvConf, interfaceName, Bool(client, "shareControlConnection")));
            index++;
        }
        return clients.ToValueList();
    }

    /// <summary>server.pushRoutes: CIDR prefixes, host bits zero, no repeats, as many as one DHCP option holds.</summary>
    private ValueList<IPNetwork> BindPushRoutes(Scope server)
    {
        var routes = new List<IPNetwork>();
        var tooMany = false;
        foreach (var (text, node) in StringList(server, "pushRoutes") ?? [])
        {
            var problem = AddressRange.TryParseNetwork(text, out var network);
            if (problem is not null)
            {
                Error(node, problem);
            }
            else if (routes.Contains(network))
            {
                Error(node, $"{text} is listed twice");
            }
            else if (routes.Count == DhcpInformResponder.MaxRoutes)
            {
                // Once, at the first entry too many: the rest say nothing new.
                if (!tooMany)
                {
                    tooMany = true;
                    Error(node, $"more than {DhcpInformResponder.MaxRoutes} routes: that many fill the one DHCP option Windows reads; merge some into shorter prefixes");
                }
            }
            else
            {
                routes.Add(network);
            }
        }
        return routes.ToValueList();
    }

    private ValueList<IPNetwork> BindRoutes(Scope client, ServerOptions? server, List<LocalNetwork> localNetworks)
    {
        var routes = new List<IPNetwork>();
        foreach (var (text, node) in StringList(client, "routes") ?? [])
        {
            var problem = AddressRange.TryParseNetwork(text, out var network);
            if (problem is not null)
            {
                Error(node, problem);
                continue;
            }
            var range = AddressRange.FromNetwork(network);
            foreach (var poolRange in server?.Pool ?? ValueList<AddressRange>.Empty)
            {
                if (poolRange.Overlaps(range))
                {
                    Error(node, $"{text} overlaps the server pool {poolRange}");
                }
            }
            foreach (var lan in localNetworks)
            {
                if (network.PrefixLength >= lan.Network.PrefixLength && AddressRange.FromNetwork(lan.Network).Overlaps(range))
                {
                    Warning(node, $"{text} lies inside the LAN {lan.Network} on {lan.Interface}: LAN traffic would go into the tunnel");
                }
            }
            routes.Add(network);
        }
        return routes.ToValueList();
    }

    // ---- Addresses ----

    private IPAddress? Address(Scope scope, string name) => AddressWithNode(scope, name).Value;

    private (IPAddress? Value, ConfigNode? Node) AddressWithNode(Scope scope, string name)
    {
        var (text, node) = StringWithNode(scope, name);
        if (text is null)
        {
            return (null, null);
        }
        if (!AddressRange.TryParseIPv4(text, out var address))
        {
            if (node is not null)
            {
                Error(node, $"'{text}' is not an IPv4 address like 192.168.100.1");
            }
            return (null, null);
        }
        return (address, node);
    }

    private ValueList<IPAddress> AddressList(Scope scope, string name)
    {
        var result = new List<IPAddress>();
        foreach (var (text, node) in StringList(scope, name) ?? [])
        {
            if (AddressRange.TryParseIPv4(text, out var address))
            {
                result.Add(address);
            }
            else
            {
                Error(node, $"'{text}' is not an IPv4 address");
            }
        }
        return result.ToValueList();
    }

    // ---- Small sections ----

    private LoggingOptions BindLogging(Scope scope) => new(String(scope, "level") switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        _ => LogLevel.Information,
    });

    private TunOptions BindTun(Scope scope)
    {
        var (serverPrefix, _) = StringWithNode(scope, "serverPrefix");
        var (clientPrefix, clientNode) = StringWithNode(scope, "clientPrefix");
        serverPrefix = string.IsNullOrEmpty(serverPrefix) ? TunOptions.Default.ServerPrefix : serverPrefix;
        clientPrefix = string.IsNullOrEmpty(clientPrefix) ? TunOptions.Default.ClientPrefix : clientPrefix;
        if (serverPrefix == clientPrefix)
        {
            const string Message = "serverPrefix and clientPrefix are the same; they must differ";
            if (clientNode is not null)
            {
                Error(clientNode, Message);
            }
            else
            {
                Error(scope, Message);
            }
        }
        return new TunOptions(serverPrefix, clientPrefix);
    }

    private PppOptions BindPpp(Scope scope) => new(
        Int(scope, "mru"),
        Int(scope, "mtu"),
        TimeSpan.FromSeconds(Int(scope, "lcpEchoIntervalSeconds")),
        Int(scope, "lcpEchoFailures"),
        TimeSpan.FromSeconds(Int(scope, "restartTimerSeconds")),
        Int(scope, "maxConfigure"),
        Bool(scope, "clampMss"));

    private ForwardingOptions BindForwarding(Scope scope)
    {
        var enabled = Bool(scope, "enabled");
        var (masquerade, node) = StringWithNode(scope, "masqueradeOut");
        if (masquerade is not null && !enabled)
        {
            Warning(node!, "masquerading needs forwarding.enabled: true; tunnel traffic will not be forwarded");
        }
        return new ForwardingOptions(enabled, string.IsNullOrEmpty(masquerade) ? null : masquerade);
    }

    private HookOptions BindHooks(Scope scope)
    {
        string? Script(string name)
        {
            var (path, node) = StringWithNode(scope, name);
            if (string.IsNullOrEmpty(path))
            {
                return null;
            }
            if (!path.StartsWith('/'))
            {
                Error(node!, $"'{path}' must be an absolute path (starting with /)");
                return null;
            }
            return path;
        }

        var ipUp = Script("ipUp");
        var ipDown = Script("ipDown");
        return new HookOptions(ipUp, ipDown, TimeSpan.FromSeconds(Int(scope, "timeoutSeconds")));
    }

    // ---- Board ----

    /// <summary>
    /// Binds the board section into the Board layer's own options and runs their validation, so the rules for
    /// pins and bindings live in one place; each of its errors is reported at the offending key's line.
    /// </summary>
    private BoardOptions BindBoard(Scope scope)
    {
        var buttons = Section(scope, "buttons");
        var leds = Section(scope, "leds");
        var options = new BoardOptions
        {
            Enabled = Bool(scope, "enabled"),
            Profile = String(scope, "profile")!,
            Driver = Word<GpioDriverKind>(scope, "driver") ?? GpioDriverKind.Auto,
            Debounce = Duration(scope, "debounceSeconds"),
            DoublePressWindow = Duration(scope, "doublePressWindowSeconds"),
            LongPress = Duration(scope, "longPressSeconds"),
            VeryLongPress = Duration(scope, "veryLongPressSeconds"),
            SelfTest = Bool(scope, "selfTest"),
            Button1 = BindButton(Section(buttons, "button1")),
            Button2 = BindButton(Section(buttons, "button2")),
            PowerLed = BindLed(Section(leds, "power")),
            TunnelLed = BindLed(Section(leds, "tunnel")),
            ActivityLed = BindLed(Section(leds, "activity")),
        };

        foreach (var error in options.Validate())
        {
            var (node, _) = Locate(scope, error.Path);
            var message = error.Message;
            if (error.OtherPath is { } other && Locate(scope, other) is ({ } otherNode, true))
            {
                message += $" (line {otherNode.Line})";
            }
            Error(error.Path, node?.Line ?? scope.Line, node?.Column ?? scope.Column, message);
        }
        return options;
    }

    private ButtonOptions BindButton(Scope scope) => new()
    {
        Enabled = Bool(scope, "enabled"),
        Pin = OptionalInt(scope, "pin"),
        ActiveLow = Bool(scope, "activeLow"),
        Bias = Word<GpioBias>(scope, "bias"),
        Short = Word<GatewayCommand>(scope, "short") ?? GatewayCommand.None,
        Double = Word<GatewayCommand>(scope, "double") ?? GatewayCommand.None,
        Long = Word<GatewayCommand>(scope, "long") ?? GatewayCommand.None,
        VeryLong = Word<GatewayCommand>(scope, "veryLong") ?? GatewayCommand.None,
    };

    private LedOptions BindLed(Scope scope)
    {
        var enabled = Bool(scope, "enabled");
        var pin = OptionalInt(scope, "pin");
        var (device, deviceNode) = StringWithNode(scope, "device");
        if (deviceNode is not null && Present(scope, "pin") is not null)
        {
            Error(deviceNode, "give pin or device, not both");
        }
        return new LedOptions { Enabled = enabled, Pin = pin, Device = device };
    }

    /// <summary>An enum from its kebab-case word (the table's Allowed list has already been checked); null when absent.</summary>
    private TEnum? Word<TEnum>(Scope scope, string name)
        where TEnum : struct, Enum =>
        String(scope, name) is { } word && ConfigWords.TryParse<TEnum>(word, out var value) ? value : null;

    /// <summary>A duration written in seconds, kept to whole milliseconds.</summary>
    private TimeSpan Duration(Scope scope, string name) =>
        TimeSpan.FromMilliseconds(Math.Round(Number(scope, name) * 1000));

    /// <summary>
    /// The node a dotted path below <paramref name="section"/> names, or the deepest one of its ancestors the file
    /// has (Exact = false), so an error about a key left out still points into the right part of the file.
    /// </summary>
    private static (ConfigNode? Node, bool Exact) Locate(Scope section, string path)
    {
        var prefix = section.Path + ".";
        if (section.Node is null || !path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return (section.Node, false);
        }
        var node = section.Node;
        foreach (var name in path[prefix.Length..].Split('.'))
        {
            var child = node[name];
            if (child is null || child.Kind == ConfigNodeKind.Null)
            {
                return (node, false);
            }
            node = child;
        }
        return (node, true);
    }
}
