using Firmware.Gateway.Board;
using Firmware.Platform.Gpio;
using Microsoft.Extensions.Logging;
using LedTunnelState = Firmware.Gateway.Board.TunnelState;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// Joins the buttons and LEDs to the running gateway: LEDs follow the gateway's state events, button
/// gestures become commands handled off the data path. Missing GPIO is a warning; the gateway runs on.
/// </summary>
internal sealed partial class BoardRuntime : IAsyncDisposable
{
    private readonly GatewayService _service;
    private readonly Func<ConfigState> _configState;
    private readonly Func<CardState> _cardState;
    private readonly ILogger _logger;
    private readonly GatewayCommandChannel _commands = new();
    private readonly BoardController? _board;
    private readonly ConsoleGpioLines? _console;
    private readonly Task _commandLoop;

    /// <param name="ledStateDirectory">Where LED-class triggers are saved while held, so a killed run's are put back
    /// at the next start (the run directory's "leds"); null: not saved.</param>
    public BoardRuntime(BoardOptions options, GatewayService service, Func<ConfigState> configState, Func<CardState> cardState,
        TextWriter consoleOut, TimeProvider time, ILogger logger, string? ledStateDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _service = service;
        _configState = configState;
        _cardState = cardState;
        _logger = logger;
        if (ledStateDirectory is not null)
        {
            // Even with the board switched off now: a killed earlier run may have left the Pi's LEDs on trigger "none".
            foreach (var led in LedClassDevice.RestoreSaved(LedClassDevice.DefaultRoot, ledStateDirectory))
            {
                LogLedRestored(_logger, led);
            }
        }
        if (options.Enabled && options.ResolveProfile() is { } profile)
        {
            var driver = GpioDriverFactory.Create(
                new GpioDriverRequest(options.Driver, profile.ChipLabel, time, consoleOut) { LedStateDirectory = ledStateDirectory });
            if (driver.Warning is not null)
            {
                LogWarning(_logger, driver.Warning);
            }
            _console = driver.Lines as ConsoleGpioLines;
            _board = new BoardController(options, driver.Lines, time, _commands, Traffic);
            foreach (var warning in _board.Warnings)
            {
                LogWarning(_logger, warning);
            }
            LogBoard(_logger, profile.Name, _board.DriverDescription);
        }
        service.Events.StateChanged += Publish;
        _commandLoop = Task.Run(CommandLoopAsync);
        Publish();
    }

    /// <summary>Raised for a button's factory-reset gesture; the command owns the config file.</summary>
    public event Action? FactoryResetRequested;

    /// <summary>`pptp-gateway button …` with the console driver: a script line such as "click button1".</summary>
    public async Task<string> PressAsync(string script)
    {
        if (_console is null)
        {
            return "buttons can be pressed from the command line only with the console driver (board.driver: console)";
        }
        using var reader = new StringReader(script.Replace(';', '\n'));
        await _console.RunScriptAsync(reader, CancellationToken.None).ConfigureAwait(false);
        return $"pressed: {script}";
    }

    private ulong Traffic()
    {
        ulong total = 0;
        foreach (var s in _service.AllSessions)
        {
            total += (ulong)(s.PacketsReceived + s.PacketsSent);
        }
        return total;
    }

    /// <summary>The LED picture of the gateway now.</summary>
    public GatewayHealth Health()
    {
        var clients = _service.Clients;
        var wanted = clients.Where(c => c.Wanted).ToList();
        var tunnel = wanted.Count == 0 ? LedTunnelState.NotWanted
            : wanted.Any(c => c.Phase == ClientPhase.AuthFailed) ? LedTunnelState.AuthFailed
            : wanted.Any(c => c.Phase == ClientPhase.GreBlocked) ? LedTunnelState.GreBlocked
            : wanted.Any(c => c.Phase == ClientPhase.InterfaceFailed) ? LedTunnelState.InterfaceFailed
            : wanted.All(c => c.Phase == ClientPhase.Up) ? LedTunnelState.Up
            : wanted.Any(c => c.Phase == ClientPhase.WaitingToRedial && c.LastError is not null) ? LedTunnelState.Refused
            : LedTunnelState.Connecting;
        return new GatewayHealth(_configState(), tunnel, _service.ServerSessionCount, 0, 0)
        {
            ServerGreBlocked = _service.ServerGreBlocked,
            Card = _cardState(),
            ServerInterfaceFailed = _service.ServerInterfaceError is not null,
        };
    }

    private void Publish() => _board?.Publish(Health());

    private async Task CommandLoopAsync()
    {
        await foreach (var command in _commands.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            LogCommand(_logger, command);
            switch (command)
            {
                case GatewayCommand.ToggleClients:
                    _service.ToggleClients();
                    break;
                case GatewayCommand.ReloadConfig:
                    _service.RequestReload();
                    break;
                case GatewayCommand.ShowStatus:
                    _board?.ShowStatusCode();
                    break;
                case GatewayCommand.FactoryReset:
                    FactoryResetRequested?.Invoke();
                    break;
                case GatewayCommand.Reboot:
                    Reboot();
                    break;
            }
        }
    }

    private void Reboot()
    {
        try
        {
            using var process = System.Diagnostics.Process.Start("systemctl", "reboot");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            LogWarning(_logger, $"reboot requested by the button but systemctl is not available: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _service.Events.StateChanged -= Publish;
        _commands.Complete();
        await _commandLoop.ConfigureAwait(false);
        _board?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "board: {Warning}")]
    private static partial void LogWarning(ILogger logger, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "board: profile {Profile}, driver {Driver}")]
    private static partial void LogBoard(ILogger logger, string profile, string driver);

    [LoggerMessage(Level = LogLevel.Warning, Message = "board: LED trigger left by an earlier run put back: {Led}")]
    private static partial void LogLedRestored(ILogger logger, string led);

    [LoggerMessage(Level = LogLevel.Information, Message = "button: {Command}")]
    private static partial void LogCommand(ILogger logger, GatewayCommand command);
}
