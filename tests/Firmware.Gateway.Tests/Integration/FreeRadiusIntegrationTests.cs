using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Radius;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// Our RADIUS client against Debian's FreeRADIUS (scripts/setup installs it): a copy of its raddb with our
/// own site (PAP, CHAP, MS-CHAP on 127.0.0.1 and a free port), clients.conf requiring Message-Authenticator
/// and a users file written here; freeradius -X runs in the foreground and the test waits (with a deadline)
/// for "Ready to process requests". Debian 12's FreeRADIUS (3.2.1) does not put a Message-Authenticator in
/// its answers by itself (3.2.5 and later do, after BlastRADIUS) and our client refuses answers without one,
/// so the site adds it to every reply: the same line a FreeRADIUS 3.2.1 administrator needs.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class FreeRadiusIntegrationTests(ITestOutputHelper output)
{
    private const string Secret = "pptp-gateway-test-secret";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private const string Site = """
        server pptp-gateway-test {
        	listen {
        		type = auth
        		ipaddr = 127.0.0.1
        		port = @PORT@
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
        	post-auth {
        		update reply {
        			&Message-Authenticator := 0x00
        		}
        		Post-Auth-Type REJECT {
        			attr_filter.access_reject
        			update reply {
        				&Message-Authenticator := 0x00
        			}
        		}
        	}
        }
        """;

    private const string Clients = """
        client pptp-gateway {
        	ipaddr = 127.0.0.1
        	secret = @SECRET@
        	require_message_authenticator = yes
        }
        """;

    private const string Users = """
        alice	Cleartext-Password := "s3cret!"
        	Framed-IP-Address = 10.9.8.7,
        	Session-Timeout = 3600,
        	Class = "pptp-class"
        """;

    [Fact]
    public void Pap_chap_and_ms_chap_v2_logins_against_freeradius()
    {
        var raddb = Directory.CreateTempSubdirectory("pptp-freeradius-");
        try
        {
            var port = FreeUdpPort();
            WriteRaddb(raddb.FullName, port);
            using var server = BackgroundProcess.Start("freeradius", ["freeradius", "-X", "-d", raddb.FullName]);
            try
            {
                server.WaitFor(l => l.Contains("Ready to process requests", StringComparison.Ordinal), "\"Ready to process requests\"", Deadline);
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
                udp.Connect(IPAddress.Loopback, port);
                byte identifier = 1;

                // PAP: accepted with the users file's reply attributes; a wrong password is rejected.
                var pap = Login(udp, identifier++, AuthMethod.Pap, "s3cret!", out var papAnswer);
                Assert.Equal(RadiusAnswerError.None, pap);
                Assert.True(papAnswer!.Accepted, server.Output);
                Assert.Equal(IPAddress.Parse("10.9.8.7"), papAnswer.FramedIpAddress);
                Assert.Equal(3600u, papAnswer.SessionTimeout);
                Assert.Equal(["pptp-class"u8.ToArray()], papAnswer.Classes);
                Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.Pap, "wrong", out var papReject));
                Assert.False(papReject!.Accepted);

                // CHAP-MD5.
                Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.ChapMd5, "s3cret!", out var chap));
                Assert.True(chap!.Accepted, server.Output);
                Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.ChapMd5, "wrong", out var chapReject));
                Assert.False(chapReject!.Accepted);

                // MS-CHAPv2: S= and the MPPE keys equal what our own code derives from the same exchange.
                var result = Login(udp, identifier++, AuthMethod.MsChapV2, "s3cret!", out var v2, out var exchange);
                Assert.Equal(RadiusAnswerError.None, result);
                Assert.True(v2!.Accepted, server.Output);
                var passwordHash = MsChapCrypto.NtPasswordHash("s3cret!");
                var passwordHashHash = new byte[16];
                MsChapCrypto.HashNtPasswordHash(passwordHash, passwordHashHash);
                var authenticatorResponse = new byte[20];
                MsChapCrypto.GenerateAuthenticatorResponse(passwordHash, exchange.NtResponse, exchange.PeerChallenge, exchange.Challenge, "alice"u8, authenticatorResponse);
                Assert.Equal(authenticatorResponse, v2.AuthenticatorResponse);
                var local = MppeKeyDerivation.DeriveStartKeys(
                    new MppeKeyMaterial(AuthMethod.MsChapV2, passwordHash, passwordHashHash, [], exchange.NtResponse),
                    isAuthenticator: true, MppeKeyStrength.Bits128);
                Assert.Equal(local.Send, v2.MppeSendKey);
                Assert.Equal(local.Receive, v2.MppeRecvKey);
                Assert.NotNull(v2.MppeEncryptionPolicy);
                Assert.NotNull(v2.MppeEncryptionTypes);

                Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.MsChapV2, "wrong", out var v2Reject, out _));
                Assert.False(v2Reject!.Accepted);
                Assert.Equal(691, v2Reject.MsChapErrorCode); // ERROR_AUTHENTICATION_FAILURE
                Assert.Null(v2Reject.MppeSendKey);
            }
            finally
            {
                server.Kill();
                output.WriteLine(server.Output);
            }
        }
        finally
        {
            raddb.Delete(recursive: true);
        }
    }

    private readonly record struct Exchange(byte[] Challenge, byte[] PeerChallenge, byte[] NtResponse);

    private static RadiusAnswerError Login(UdpClient udp, byte identifier, AuthMethod method, string password, out RadiusAccessAnswer? answer) =>
        Login(udp, identifier, method, password, out answer, out _);

    /// <summary>What our PPP authenticator would do for a peer that knows <paramref name="password"/>: its
    /// response computed here, sent in one Access-Request, and the answer read with a deadline.</summary>
    private static RadiusAnswerError Login(UdpClient udp, byte identifier, AuthMethod method, string password, out RadiusAccessAnswer? answer, out Exchange exchange)
    {
        var secret = Encoding.ASCII.GetBytes(Secret);
        var requestAuthenticator = RandomNumberGenerator.GetBytes(16);
        var user = "alice"u8;
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        byte chapIdentifier = 0x5c;
        byte[] challenge = [];
        byte[] response = [];
        exchange = default;
        switch (method)
        {
            case AuthMethod.ChapMd5:
                challenge = RandomNumberGenerator.GetBytes(16);
                response = new byte[16];
                MsChapCrypto.ChapMd5Response(chapIdentifier, passwordBytes, challenge, response);
                break;
            case AuthMethod.MsChapV2:
                challenge = RandomNumberGenerator.GetBytes(16);
                var peerChallenge = RandomNumberGenerator.GetBytes(16);
                var ntResponse = new byte[24];
                MsChapCrypto.GenerateNtResponse(challenge, peerChallenge, user, MsChapCrypto.NtPasswordHash(password), ntResponse);
                response = [.. peerChallenge, .. new byte[8], .. ntResponse, 0];
                exchange = new Exchange(challenge, peerChallenge, ntResponse);
                break;
        }

        var packet = new byte[RadiusWire.MaxPacketLength];
        var length = RadiusAccessRequest.Write(packet, identifier, requestAuthenticator, secret, new RadiusLogin
        {
            Method = method,
            UserName = user,
            Password = method == AuthMethod.Pap ? passwordBytes : default,
            ChapIdentifier = chapIdentifier,
            Challenge = challenge,
            Response = response,
            NasIpAddress = [127, 0, 0, 1],
            NasIdentifier = "pptp-gateway-test"u8,
            CallingStationId = "192.0.2.55"u8,
        });
        Assert.True(length > 0);
        udp.Send(packet, length);

        using var cancel = new CancellationTokenSource(Deadline);
        var received = udp.ReceiveAsync(cancel.Token).AsTask().GetAwaiter().GetResult();
        return RadiusAccessAnswer.TryRead(received.Buffer, identifier, requestAuthenticator, secret, method, out answer);
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    /// <summary>Debian's raddb copied, its sites and EAP (which needs certificates) replaced by our site; run
    /// as the test's user (root) rather than freerad, so the temporary copy needs no chown.</summary>
    private static void WriteRaddb(string directory, int port)
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
        File.WriteAllText(Path.Combine(directory, "sites-enabled", "pptp-gateway-test"), Site.Replace("@PORT@", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) + "\n");
        File.WriteAllText(Path.Combine(directory, "clients.conf"), Clients.Replace("@SECRET@", Secret, StringComparison.Ordinal) + "\n");
        File.WriteAllText(Path.Combine(directory, "mods-config", "files", "authorize"), Users + "\n");
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
            else if (entry is DirectoryInfo directory)
            {
                CopyDirectory(directory.FullName, target);
            }
            else
            {
                File.Copy(entry.FullName, target);
            }
        }
    }
}
