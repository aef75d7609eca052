using System.Net;
using Firmware.Gateway.Runtime;

namespace Firmware.Gateway.Client;

/// <summary>
/// The client control connections that tunnels configured with <c>shareControlConnection</c> reuse, one per
/// server address, as pptp-linux's call manager does: the second tunnel to a server becomes a second call on
/// the first one's connection. A connection that stopped taking calls (closing, the server refused one, or its
/// announced Maximum Channels are in use) is not handed out again; the next tunnel opens its own.
/// </summary>
internal sealed class SharedControlChannels
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, ControlChannel> _byServer = [];
    private readonly Dictionary<IPAddress, SemaphoreSlim> _opening = [];

    /// <summary>
    /// A live connection to <paramref name="server"/> that takes more calls, or the one <paramref name="open"/>
    /// makes (null if it could not). One tunnel at a time opens per server: tunnels that start together would
    /// otherwise each find none and open one each.
    /// </summary>
    public async Task<(ControlChannel? Channel, bool Opened)> FindOrOpenAsync(IPAddress server,
        Func<Task<ControlChannel?>> open, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        SemaphoreSlim gate;
        lock (_gate)
        {
            if (!_opening.TryGetValue(server, out gate!))
            {
                _opening[server] = gate = new SemaphoreSlim(1, 1);
            }
        }
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Find(server) is { } existing)
            {
                return (existing, false);
            }
            var opened = await open().ConfigureAwait(false);
            if (opened is not null)
            {
                Add(server, opened);
            }
            return (opened, true);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A live connection to <paramref name="server"/> that takes more calls, or null.</summary>
    public ControlChannel? Find(IPAddress server)
    {
        lock (_gate)
        {
            return _byServer.TryGetValue(server, out var channel) && channel.AcceptsMoreCalls ? channel : null;
        }
    }

    /// <summary>Offers <paramref name="channel"/> to the next tunnels to <paramref name="server"/>.</summary>
    public void Add(IPAddress server, ControlChannel channel)
    {
        lock (_gate)
        {
            _byServer[server] = channel;
        }
    }

    /// <summary>The connection closed: forget it (unless another has taken its place already).</summary>
    public void Remove(IPAddress server, ControlChannel channel)
    {
        lock (_gate)
        {
            if (_byServer.TryGetValue(server, out var current) && current == channel)
            {
                _byServer.Remove(server);
            }
        }
    }
}
