using System.Runtime.InteropServices;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Logging;
using Firmware.Gateway.Runtime;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Cli;

/// <summary>
/// `pptp-gateway run`: loads the config (file, else last-good, else safe defaults), starts the gateway,
/// applies reloads (file change, SIGHUP, button, `pptp-gateway reload`) and stops cleanly on SIGTERM/SIGINT.
/// </summary>
internal static partial class RunCommand
{
    public const string DefaultStateDirectory = "/var/lib/pptp-gateway";
    public const string DefaultRunDirectory = "/run/pptp-gateway";

    public static int Run(IReadOnlyList<string> args, GatewayEnvironment environment, TextWriter stdout, TextWriter stderr)
    {
        var problem = GatewayCommandLine.ParseOptions(args, new HashSet<string> { "--log-time" },
            new HashSet<string> { "--config", "--state-dir", "--run-dir" }, 0, out var flags, out var values, out _);
        if (problem is not null)
        {
            stderr.WriteLine($"pptp-gateway run: {problem}");
            return GatewayCommandLine.ExitCodes.Usage;
        }

        var path = ConfigLocator.Locate(values.GetValueOrDefault("--config"), environment.GetEnvironment, File.Exists, out var tried)
            ?? tried[0];
        var stateDirectory = values.GetValueOrDefault("--state-dir") ?? DefaultStateDirectory;
        var runDirectory = values.GetValueOrDefault("--run-dir") ?? environment.GetEnvironment(StatusCommand.RunDirectoryVariable) ?? DefaultRunDirectory;
        var logs = new JournalLoggerSink(stderr, LogLevel.Information) { WithTimestamps = flags.Contains("--log-time") };
        try
        {
            return RunAsync(path, stateDirectory, runDirectory, environment, logs).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is Platform.Linux.PlatformException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            var startLogger = logs.For("gateway");
            LogCannotStart(startLogger, e.Message);
            return GatewayCommandLine.ExitCodes.Failure;
        }
    }

    private static async Task<int> RunAsync(string configPath, string stateDirectory, string runDirectory, GatewayEnvironment environment, JournalLoggerSink logs)
    {
        var logger = logs.For("gateway");
        Directory.CreateDirectory(stateDirectory);
        GatewayService? service = null;
        using var config = new ConfigService(
            new ConfigServiceOptions(configPath) { LastGoodPath = Path.Combine(stateDirectory, "last-good.json") },
            environment.LocalNetworks, TimeProvider.System, logs.For<ConfigService>(),
            () => service is null ? [] : StatusLines(service));
        config.Start();
        logs.Minimum = config.Current.Logging.Level;

        var booted = config.Current;
        GatewayService NewService(GatewayConfig start)
        {
            var created = new GatewayService(start, logs, TimeProvider.System,
                new GatewayPaths(Path.Combine(runDirectory, "control.sock"), stateDirectory));
            created.ConfigInfo = () => (configPath, config.Source switch
            {
                ConfigSource.File => "loaded from the card",
                ConfigSource.LastGood => "card file not usable: running last-good",
                _ => "no usable config: running safe defaults",
            }, config.Card);
            return created;
        }

        service = NewService(booted);
        try
        {
            service.Start();
        }
        catch (Exception e) when (IsStartFailure(e) && config.FallBackAfterFailedStart(e.Message) is { } lastGood)
        {
            // The card's file validated but cannot run: come up on the copy that did, rather than crash-loop.
            LogStartFellBack(logger, e.Message);
            await service.DisposeAsync().ConfigureAwait(false);
            booted = lastGood;
            service = NewService(booted);
            service.Start();
        }

        // Started: only now may the card's file become last-good.
        config.ConfirmStarted(booted);

        await using var board = new BoardRuntime(config.Current.Board, service,
            () => config.Source switch
            {
                ConfigSource.File => Board.ConfigState.Ok,
                ConfigSource.LastGood => Board.ConfigState.RunningLastGood,
                _ => Board.ConfigState.Error,
            },
            () => config.Card,
            Console.Out, TimeProvider.System, logs.For("board"), Path.Combine(runDirectory, "leds"));
        service.PressButton = board.PressAsync;
        service.LedInfo = () =>
        {
            var health = board.Health();
            return (Board.LedPolicy.Patterns(health), Board.LedPolicy.StatusCode(health));
        };
        board.FactoryResetRequested += () =>
        {
            FactoryReset(configPath, logger);
            config.Reload();
        };

        // Config changes are applied one at a time, off the config service's lock.
        var applying = new SemaphoreSlim(1);
        config.Changed += (_, change) => _ = Task.Run(async () =>
        {
            await applying.WaitAsync().ConfigureAwait(false);
            try
            {
                await service.ApplyAsync(change.NewConfig, change.Diff).ConfigureAwait(false);
                config.ConfirmStarted(change.NewConfig);
                if (change.Diff.BoardChanged)
                {
                    LogBoardNeedsRestart(logger);
                }
            }
            catch (Exception e) when (IsStartFailure(e))
            {
                // Not started, so not last-good: the next boot does not come up on it unseen.
                LogApplyFailed(logger, e.Message);
            }
            finally
            {
                applying.Release();
            }
        });
        service.ReloadRequested += () => config.Reload();
        service.Events.StateChanged += config.RefreshStatus;
        config.CardChanged += service.Events.Changed;

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; _ = Task.Run(config.Reload); });
        using var notifier = SystemdNotifier.FromEnvironment(environment.GetEnvironment);
        notifier.Send("READY=1\nSTATUS=" + service.StatusLine());
        await using var watchdog = SystemdNotifier.WatchdogInterval(environment.GetEnvironment, Environment.ProcessId) is { } interval
            && notifier.Enabled
            ? new SystemdWatchdog(notifier, interval, service.CheckLoopsAsync, service.StatusLine, TimeProvider.System, logger)
            : null;
        watchdog?.Start();

        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        notifier.Send("STOPPING=1");
        // No pings while the loops shut down: a slow stop is systemd's TimeoutStopSec, not a hang.
        if (watchdog is not null)
        {
            await watchdog.DisposeAsync().ConfigureAwait(false);
        }
        await service.DisposeAsync().ConfigureAwait(false);
        LogExit(logger);
        return GatewayCommandLine.ExitCodes.Ok;
    }

    /// <summary>What a factory reset writes: no server, no clients, every default (the strongest PPTP allows).</summary>
    public const string FactoryConfig = """
        {
          // Factory settings, written by a factory reset (button 1 held for 10 s). Your previous file is kept
          // beside this one as pptp-gateway.json.bak-<date>. Add a "server" section or "clients" to use the box.
          "$schema": "./pptp-gateway.schema.json",
          "clients": [],
        }

        """;

    /// <summary>Keeps the user's file as a dated backup beside it and writes the factory config in its place.</summary>
    private static void FactoryReset(string configPath, ILogger logger)
    {
        try
        {
            var backup = $"{configPath}.bak-{DateTime.Now:yyyyMMdd-HHmmss}";
            if (File.Exists(configPath))
            {
                var (previous, problem) = ConfigLoader.ReadFile(configPath, ConfigLoader.DefaultReadLimit);
                if (previous is null)
                {
                    throw new IOException(problem);
                }
                AtomicFile.Write(backup, previous);
            }
            AtomicFile.Write(configPath, System.Text.Encoding.UTF8.GetBytes(FactoryConfig));
            LogFactoryReset(logger, configPath, backup);
        }
        catch (IOException e)
        {
            LogFactoryResetFailed(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "factory reset: {Path} now holds the factory config; the previous file is {Backup}")]
    private static partial void LogFactoryReset(ILogger logger, string path, string backup);

    [LoggerMessage(Level = LogLevel.Error, Message = "factory reset failed: {Reason}")]
    private static partial void LogFactoryResetFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "board settings changed: they take effect at the next start")]
    private static partial void LogBoardNeedsRestart(ILogger logger);

    [LoggerMessage(Level = LogLevel.Critical, Message = "cannot start: {Reason}")]
    private static partial void LogCannotStart(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "the new configuration could not be applied (it is not saved as last-good): {Reason}")]
    private static partial void LogApplyFailed(ILogger logger, string reason);

    private static bool IsStartFailure(Exception e) =>
        e is Platform.Linux.PlatformException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException
            or InvalidOperationException or ArgumentException;

    [LoggerMessage(Level = LogLevel.Error, Message = "the card's configuration could not start ({Reason}); running last-good instead")]
    private static partial void LogStartFellBack(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "exit")]
    private static partial void LogExit(ILogger logger);

    private static List<string> StatusLines(GatewayService service)
    {
        var snapshot = service.Snapshot();
        var lines = new List<string>();
        foreach (var s in snapshot.Sessions)
        {
            lines.Add($"{s.Role} {s.Name}: {s.State}{(s.RemoteAddress is null ? "" : $", {s.LocalAddress} <-> {s.RemoteAddress}")}{(s.LastError is null ? "" : $" ({s.LastError})")}");
        }
        if (lines.Count == 0)
        {
            lines.Add("no tunnels");
        }
        return lines;
    }
}
