using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// Debian's FreeRADIUS (scripts/setup installs it) for a test: a copy of its raddb with our own site (PAP, CHAP,
/// MS-CHAP on 127.0.0.1 and a free port), clients.conf requiring Message-Authenticator and the users file the
/// test gives; freeradius -X runs in the foreground and <see cref="Start"/> waits (with a deadline) for "Ready to
/// process requests". Debian 12's FreeRADIUS (3.2.1) does not put a Message-Authenticator in its answers by
/// itself (3.2.5 and later do, after BlastRADIUS) and our client refuses answers without one, so the site adds it
/// to every reply: the same lines a FreeRADIUS 3.2.1 administrator needs (the README shows them).
/// </summary>
internal sealed class FreeRadiusServer : IDisposable
{
    public const string DefaultSecret = "pptp-gateway-test-secret";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private const string Site = """
        server pptp-gateway-test {
        	listen {
        		type = auth
        		ipaddr = 127.0.0.1
        		port = @PORT@
        	}
        	listen {
        		type = acct
        		ipaddr = 127.0.0.1
        		port = @ACCTPORT@
        	}
        	authorize {
        		chap
        		mschap
        		files
        		pap
        	}
        	authenticate {
        		Auth-Type PAP {
        			pap
        		}
        		Auth-Type CHAP {
        			chap
        		}
        		Auth-Type MS-CHAP {
        			mschap
        		}
        	}
        	preacct {
        		preprocess
        	}
        	accounting {
        		pptp_detail
        	}
        	post-auth {
        @SIGN@		update reply {
        @SIGN@			&Message-Authenticator := 0x00
        @SIGN@		}
        		Post-Auth-Type REJECT {
        			attr_filter.access_reject
        @SIGN@			update reply {
        @SIGN@				&Message-Authenticator := 0x00
        @SIGN@			}
        		}
        	}
        }
        """;

    /// <summary>Every accounting request, as FreeRADIUS decoded it, into one file of the test's own.</summary>
    private const string DetailModule = """
        detail pptp_detail {
        	filename = @DETAIL@
        	escape_filenames = no
        	permissions = 0600
        	header = "%t"
        }
        """;

    private const string Clients = """
        client pptp-gateway {
        	ipaddr = 127.0.0.1
        	secret = @SECRET@
        	require_message_authenticator = yes
        }
        """;

    private readonly DirectoryInfo _raddb;
    private readonly BackgroundProcess _process;
    private readonly ITestOutputHelper _output;

    private FreeRadiusServer(DirectoryInfo raddb, BackgroundProcess process, int port, ITestOutputHelper output)
    {
        _raddb = raddb;
        _process = process;
        Port = port;
        _output = output;
    }

    /// <summary>The UDP port it listens on, at 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Its accounting port: always <see cref="Port"/> + 1, so a test can name it for any server, dead or alive.</summary>
    public int AccountingPort => Port + 1;

    /// <summary>
    /// The accounting requests FreeRADIUS has written to its detail file so far, oldest first: each as its
    /// attributes (name to value, as FreeRADIUS prints them: numbers and names unquoted, strings without quotes).
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> AccountingRecords()
    {
        var file = Path.Combine(_raddb.FullName, "detail");
        if (!File.Exists(file))
        {
            return [];
        }
        var records = new List<IReadOnlyDictionary<string, string>>();
        Dictionary<string, string>? record = null;
        foreach (var line in File.ReadAllLines(file))
        {
            if (line.Length == 0)
            {
                record = null;
                continue;
            }
            if (!line.StartsWith('\t'))
            {
                record = new Dictionary<string, string>(StringComparer.Ordinal); // the "%t" header starts one
                records.Add(record);
                continue;
            }
            var equals = line.IndexOf(" = ", StringComparison.Ordinal);
            if (record is not null && equals > 0)
            {
                record[line[1..equals]] = line[(equals + 3)..].Trim('"');
            }
        }
        return records;
    }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <summary>What freeradius -X printed so far (every request and reply, decoded).</summary>
    public string Output => _process.Output;

    /// <summary>
    /// Starts a server whose users file is <paramref name="users"/> (FreeRADIUS syntax). Without
    /// <paramref name="messageAuthenticator"/> its answers carry none, as Debian 12's FreeRADIUS sends them by default.
    /// </summary>
    public static FreeRadiusServer Start(string users, ITestOutputHelper output, string secret = DefaultSecret, bool messageAuthenticator = true, int? port = null)
    {
        var raddb = Directory.CreateTempSubdirectory("pptp-freeradius-");
        port ??= FreeUdpPortPair();
        BackgroundProcess? process = null;
        try
        {
            WriteRaddb(raddb.FullName, port.Value, secret, users, messageAuthenticator);
            process = BackgroundProcess.Start("freeradius", ["freeradius", "-X", "-d", raddb.FullName]);
            process.WaitFor(l => l.Contains("Ready to process requests", StringComparison.Ordinal), "\"Ready to process requests\"", Deadline);
            return new FreeRadiusServer(raddb, process, port.Value, output);
        }
        catch
        {
            process?.Kill();
            output.WriteLine(process?.Output ?? "");
            process?.Dispose();
            raddb.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>A UDP port on 127.0.0.1 whose next port is free too: authentication and accounting.</summary>
    public static int FreeUdpPortPair()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreeUdpPort();
            try
            {
                using var next = new UdpClient(new IPEndPoint(IPAddress.Loopback, port + 1));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }

    /// <summary>A UDP port on 127.0.0.1 that nothing listens on (now): a dead server.</summary>
    public static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        _process.Kill();
        _output.WriteLine("---- freeradius -X ----\n" + _process.Output);
        _process.Dispose();
        _raddb.Delete(recursive: true);
    }

    /// <summary>Debian's raddb copied, its sites and EAP (which needs certificates) replaced by our site; run
    /// as the test's user (root) rather than freerad, so the temporary copy needs no chown.</summary>
    private static void WriteRaddb(string directory, int port, string secret, string users, bool messageAuthenticator)
    {
        CopyDirectory("/etc/freeradius/3.0", directory);
        foreach (var site in Directory.GetFileSystemEntries(Path.Combine(directory, "sites-enabled")))
        {
            File.Delete(site);
        }
        File.Delete(Path.Combine(directory, "mods-enabled", "eap"));
        var radiusd = Path.Combine(directory, "radiusd.conf");
        var lines = File.ReadAllLines(radiusd)
            .Select(l => l.Trim() is "user = freerad" or "group = freerad" ? "#" + l : l);
        File.WriteAllLines(radiusd, lines);
        File.WriteAllText(Path.Combine(directory, "sites-enabled", "pptp-gateway-test"), Site
            .Replace("@PORT@", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("@ACCTPORT@", (port + 1).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("@SIGN@", messageAuthenticator ? "" : "#", StringComparison.Ordinal) + "\n");
        File.WriteAllText(Path.Combine(directory, "mods-enabled", "pptp_detail"),
            DetailModule.Replace("@DETAIL@", Path.Combine(directory, "detail"), StringComparison.Ordinal) + "\n");
        File.WriteAllText(Path.Combine(directory, "clients.conf"), Clients.Replace("@SECRET@", secret, StringComparison.Ordinal) + "\n");
        File.WriteAllText(Path.Combine(directory, "mods-config", "files", "authorize"), users + "\n");
    }

    /// <summary>cp -a, keeping the relative symbolic links (mods-enabled, sites-enabled, users) as links.</summary>
    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is not null)
            {
                File.CreateSymbolicLink(target, entry.LinkTarget);
            }
            else if (entry is DirectoryInfo subdirectory)
            {
                CopyDirectory(subdirectory.FullName, target);
            }
            else
            {
                File.Copy(entry.FullName, target);
            }
        }
    }
}
