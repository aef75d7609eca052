using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Firmware.Gateway.Status;

/// <summary>A command from `pptp-gateway status|connect|disconnect|reload` to the running service.</summary>
public sealed record ControlCommand(string Verb, string? Argument);

/// <summary>
/// The service's Unix control socket (/run/pptp-gateway/control.sock, mode 0600 in a 0700 directory: root
/// only). One line in ("status", "connect NAME", "disconnect NAME", "reload"), one JSON reply out, then close.
/// Commands go to a handler that posts into the gateway; the socket never touches session state itself.
/// </summary>
public sealed class ControlSocketServer : IAsyncDisposable
{
    public const string DefaultPath = "/run/pptp-gateway/control.sock";
    private const int MaxCommandBytes = 512;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    private readonly string _path;
    private readonly Func<ControlCommand, CancellationToken, Task<ControlReply>> _handler;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private Task? _acceptLoop;

    public ControlSocketServer(string path, Func<ControlCommand, CancellationToken, Task<ControlReply>> handler)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(handler);
        _path = path;
        _handler = handler;
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (File.Exists(path))
        {
            File.Delete(path); // left by a previous run that died; we own this path
        }
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(8);
    }

    public void Start() => _acceptLoop = AcceptLoopAsync(_stop.Token);

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client, cancellationToken);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ReplyTimeout);
                var line = await ReadLineAsync(client, timeout.Token).ConfigureAwait(false);
                ControlReply reply;
                if (line is null)
                {
                    reply = new ControlReply { Ok = false, Message = "command too long or missing" };
                }
                else
                {
                    var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    reply = parts.Length == 0
                        ? new ControlReply { Ok = false, Message = "empty command" }
                        : await _handler(new ControlCommand(parts[0], parts.Length > 1 ? parts[1] : null), timeout.Token).ConfigureAwait(false);
                }
                // Written to the socket as it is serialized: a status with 100 sessions is about 140 kB, which as one
                // array would land on the large-object heap with every call. Synchronous, with the socket's own send
                // timeout for a client that stops reading: the async serializer adds 100 kB to the binary.
                client.SendTimeout = (int)ReplyTimeout.TotalMilliseconds;
                using var stream = new NetworkStream(client, ownsSocket: false);
                JsonSerializer.Serialize(stream, reply, StatusJsonContext.Default.ControlReply);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
            {
                // A client that went away or stalled costs nothing but its own connection (the stream reports a
                // socket error as an IOException).
            }
        }
    }

    private static async Task<string?> ReadLineAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxCommandBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var n = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            length += n;
            var newline = Array.IndexOf(buffer, (byte)'\n', 0, length);
            if (newline >= 0)
            {
                return Encoding.UTF8.GetString(buffer, 0, newline).Trim();
            }
        }
        return length is > 0 and < MaxCommandBytes ? Encoding.UTF8.GetString(buffer, 0, length).Trim() : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        _stop.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The command-line side: sends one command and returns the parsed reply.</summary>
public static class ControlSocketClient
{
    public static async Task<ControlReply> SendAsync(string path, string command, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(Encoding.UTF8.GetBytes(command + "\n"), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            received.Write(buffer, 0, n);
            if (received.Length > 16 * 1024 * 1024)
            {
                throw new InvalidDataException("status reply larger than 16 MiB");
            }
        }
        return JsonSerializer.Deserialize(received.ToArray(), StatusJsonContext.Default.ControlReply)
            ?? throw new InvalidDataException("empty reply from the service");
    }
}
