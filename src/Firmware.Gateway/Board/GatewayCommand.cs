using System.Threading.Channels;

namespace Firmware.Gateway.Board;

/// <summary>What a button asks the gateway to do. The names are also the config words (kebab-case).</summary>
public enum GatewayCommand
{
    /// <summary>No action bound.</summary>
    None,

    /// <summary>Connect the configured client tunnels if they are down, disconnect them if they are up.</summary>
    ToggleClients,

    /// <summary>Read the config file from the card again (validate, apply what changed).</summary>
    ReloadConfig,

    /// <summary>Restore the factory config; the user's file is kept beside it as a backup.</summary>
    FactoryReset,

    /// <summary>Show the status blink code (the board does it itself; the gateway may log the status too).</summary>
    ShowStatus,

    /// <summary>Reboot the box. Not bound by default.</summary>
    Reboot,
}

/// <summary>Where buttons post commands. Must not block: the caller is a GPIO event or a timer.</summary>
public interface IGatewayCommandSink
{
    /// <summary>Queues <paramref name="command"/>; false if it was dropped (queue full or closed).</summary>
    bool TryPost(GatewayCommand command);
}

/// <summary>A bounded single-reader channel of commands: the gateway's main loop reads <see cref="Reader"/>.</summary>
public sealed class GatewayCommandChannel : IGatewayCommandSink
{
    private readonly Channel<GatewayCommand> _channel;
    private long _dropped;

    public GatewayCommandChannel(int capacity = 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _channel = Channel.CreateBounded<GatewayCommand>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public ChannelReader<GatewayCommand> Reader => _channel.Reader;

    /// <summary>Commands not queued because the reader was too far behind (someone mashing buttons).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public bool TryPost(GatewayCommand command)
    {
        if (_channel.Writer.TryWrite(command))
        {
            return true;
        }
        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>No more commands (shutdown).</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
