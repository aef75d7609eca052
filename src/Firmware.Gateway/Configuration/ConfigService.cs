using System.Globalization;
using Firmware.Gateway.Board;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Configuration;

/// <summary>Where the running configuration came from.</summary>
internal enum ConfigSource
{
    BuiltInDefaults,
    File,
    LastGood,
}

/// <summary>Raised when the running configuration changes: before, after and what differs.</summary>
internal sealed class ConfigChangedEventArgs(GatewayConfig oldConfig, GatewayConfig newConfig, ConfigDiff diff) : EventArgs
{
    public GatewayConfig OldConfig { get; } = oldConfig;

    public GatewayConfig NewConfig { get; } = newConfig;

    public ConfigDiff Diff { get; } = diff;
}

/// <summary>Where the service finds and keeps things; everything but the config path has a default.</summary>
internal sealed record ConfigServiceOptions(string ConfigPath)
{
    public const string DefaultLastGoodPath = "/var/lib/pptp-gateway/last-good.json";

    /// <summary>A copy of the last accepted file, used at boot when the card's file is missing or broken.</summary>
    public string LastGoodPath { get; init; } = DefaultLastGoodPath;

    /// <summary>Null: pptp-gateway.status.txt beside the config file.</summary>
    public string? StatusPath { get; init; }

    /// <summary>Quiet time after the last file event before reloading, so a PC writing in chunks yields one reload.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Watch the file's folder for changes (off for one-shot use).</summary>
    public bool Watch { get; init; } = true;

    /// <summary>How long reading the card's file may take before the load is given up as failed.</summary>
    public TimeSpan ReadLimit { get; init; } = ConfigLoader.DefaultReadLimit;

    /// <summary>While the card is missing or its status file cannot be written, how often to look again.</summary>
    public TimeSpan CardRetry { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Owns the running configuration: loads it at boot (falling back to last-good, then to built-in safe
/// defaults), reloads when the file changes (debounced on the <see cref="TimeProvider"/>) or when
/// <see cref="Reload"/> is called (SIGHUP, the button), never applies a file that fails validation, writes the
/// status file after every load, and raises <see cref="Changed"/> with a <see cref="ConfigDiff"/> so only what
/// changed is applied. A file is saved as last-good (mode 0600) only once the gateway reports, through
/// <see cref="ConfirmStarted"/>, that its configuration has actually started: a file that validates but cannot
/// run never replaces the copy that did. The file is read outside the lock, with a time limit, so a file that
/// blocks (a failing card) never holds up the running configuration. Never logs secrets.
/// The card itself can fail (<see cref="Card"/>): a boot partition not mounted (yet), a file that cannot be read,
/// a card that is read-only or full. Each is logged once when it starts and once when it ends, the gateway runs on
/// what it has, and the service looks again every <see cref="ConfigServiceOptions.CardRetry"/>: for the file,
/// because a partition mounted late never raises an event in the folder watched before; for the status file,
/// so the card shows the truth as soon as there is room again.
/// </summary>
internal sealed partial class ConfigService : IDisposable
{
    private readonly ConfigServiceOptions _options;
    private readonly ILocalNetworkProvider _networks;
    private readonly TimeProvider _time;
    private readonly ILogger<ConfigService> _logger;
    private readonly Func<IReadOnlyList<string>>? _runningState;
    private readonly StatusFileWriter _status;
    private readonly Lock _gate = new();
    private readonly ITimer _debounce;
    private readonly ITimer _cardRetry;
    private CardState _readState;
    private string? _statusWriteProblem;
    private int _retrying;
    private volatile Task? _abandonedRead;
    private FileSystemWatcher? _watcher;
    private ConfigLoadResult? _lastResult;
    private ConfigLoadResult? _awaitingStart;
    private long _loadsStarted;
    private long _newestApplied;
    private string _runningNote = "";
    private DateTimeOffset _appliedAt;
    private int _fileEvents;
    private bool _disposed;

    /// <param name="runningState">Lines describing the running state (sessions, tunnels) for the status file;
    /// the gateway supplies it, then calls <see cref="RefreshStatus"/> when they change.</param>
    public ConfigService(
        ConfigServiceOptions options, ILocalNetworkProvider networks, TimeProvider time, ILogger<ConfigService> logger,
        Func<IReadOnlyList<string>>? runningState = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(networks);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _networks = networks;
        _time = time;
        _logger = logger;
        _runningState = runningState;
        _status = new StatusFileWriter(options.StatusPath ?? StatusFileWriter.PathBeside(options.ConfigPath), time);
        _debounce = time.CreateTimer(_ => OnDebounceElapsed(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _cardRetry = time.CreateTimer(_ => OnCardRetry(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The configuration in force. <see cref="GatewayConfig.Default"/> until <see cref="Start"/>.</summary>
    public GatewayConfig Current { get; private set; } = GatewayConfig.Default;

    public ConfigSource Source { get; private set; } = ConfigSource.BuiltInDefaults;

    /// <summary>What the gateway can do with the card now: a read problem first, then a write problem.</summary>
    public CardState Card
    {
        get
        {
            lock (_gate)
            {
                return CardNow;
            }
        }
    }

    private CardState CardNow => _readState != CardState.Ok ? _readState
        : _statusWriteProblem is not null ? CardState.Unwritable
        : CardState.Ok;

    /// <summary>Raised, off the service's lock, when <see cref="Card"/> changes.</summary>
    public event Action? CardChanged;

    /// <summary>The outcome of the most recent load of the card's file.</summary>
    public ConfigLoadResult? LastResult
    {
        get
        {
            lock (_gate)
            {
                return _lastResult;
            }
        }
    }

    public StatusFileWriter StatusWriter => _status;

    /// <summary>File-system events seen for the config file (tests wait on it before moving a fake clock).</summary>
    public int FileEventCount => Volatile.Read(ref _fileEvents);

    /// <summary>Raised, inside the service's lock, when the running configuration changes.</summary>
    public event EventHandler<ConfigChangedEventArgs>? Changed;

    /// <summary>Raised after every load attempt, accepted or not.</summary>
    public event EventHandler<ConfigLoadResult>? Loaded;

    /// <summary>Reads and checks the card's file, outside the lock; the number orders it against other loads.</summary>
    private (ConfigLoadResult Result, long Sequence) ReadCardFile()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var sequence = Interlocked.Increment(ref _loadsStarted);
        return (ConfigLoader.LoadFile(_options.ConfigPath, _networks, _options.ReadLimit, read => _abandonedRead = read), sequence);
    }

    /// <summary>
    /// Applies an accepted result, under the lock. A load that finishes after a newer one (a slow read) is
    /// reported but not applied, so the newest file wins. Returns whether it was applied.
    /// </summary>
    private bool ApplyCardFile(ConfigLoadResult result, long sequence)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (sequence < _newestApplied)
        {
            return false;
        }
        _newestApplied = sequence;
        _lastResult = result;
        LogResult(result);
        NoteReadState(result);
        if (result.Config is not { } config)
        {
            return false;
        }
        _awaitingStart = result;
        Apply(config, ConfigSource.File);
        _runningNote = "this file";
        return true;
    }

    /// <summary>Boot: loads the file, else last-good, else defaults; then starts watching the folder.</summary>
    public ConfigLoadResult Start()
    {
        RemoveLeftoverTemporaries();
        var (result, sequence) = ReadCardFile();
        CardState cardBefore;
        lock (_gate)
        {
            cardBefore = CardNow;
            ApplyCardFile(result, sequence);
            if (result.Config is null && TryLoadLastGood() is { } lastGood)
            {
                LogFallback(_logger, _options.LastGoodPath);
                Apply(lastGood, ConfigSource.LastGood);
                _runningNote = $"the last good copy ({_options.LastGoodPath}) because this file was rejected";
            }
            else if (result.Config is null)
            {
                LogDefaults(_logger);
                Apply(GatewayConfig.Default, ConfigSource.BuiltInDefaults);
                _runningNote = "built-in safe defaults (no server, no clients) because this file was rejected and there is no usable last good copy";
            }
            WriteStatus();
        }
        StartWatching();
        AfterCardCheck(cardBefore);
        Loaded?.Invoke(this, result);
        return result;
    }

    /// <summary>
    /// Reads the file again now. An accepted file replaces the running configuration (raising
    /// <see cref="Changed"/> when something differs); a rejected one changes nothing that runs. The read
    /// happens outside the lock and within <see cref="ConfigServiceOptions.ReadLimit"/>.
    /// </summary>
    public ConfigLoadResult Reload()
    {
        var (result, sequence) = ReadCardFile();
        CardState cardBefore;
        lock (_gate)
        {
            cardBefore = CardNow;
            if (!ApplyCardFile(result, sequence) && result.Config is null)
            {
                LogKeptRunning(_logger, Source);

                // After a boot fallback the note already says what runs and why; keeping it word for word
                // spares the card a rewrite when the outcome is the same.
                if (Source == ConfigSource.File)
                {
                    var since = _appliedAt.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                    _runningNote = $"the configuration applied at {since} from this file's previous version; this file's changes were NOT applied";
                }
            }
            WriteStatus();
        }
        AfterCardCheck(cardBefore);
        Loaded?.Invoke(this, result);
        return result;
    }

    /// <summary>
    /// The gateway calls this once <paramref name="started"/> (the configuration <see cref="Current"/> was at
    /// boot, or a reload's <see cref="ConfigChangedEventArgs.NewConfig"/>) has actually started: the service
    /// started, or the change was applied, without an error. Only then is the file it came from saved as
    /// last-good. A configuration that is not the newest file's (a later file came in meanwhile) saves nothing.
    /// </summary>
    public void ConfirmStarted(GatewayConfig started)
    {
        ArgumentNullException.ThrowIfNull(started);
        lock (_gate)
        {
            if (_awaitingStart is { Config: { } config } result && ReferenceEquals(config, started) && ReferenceEquals(config, Current))
            {
                _awaitingStart = null;
                SaveLastGood(result);
            }
        }
    }

    /// <summary>
    /// Boot, after the card's file validated but the gateway could not start it (<paramref name="reason"/>):
    /// switches to last-good and returns it, or returns null when there is none (or it is the same file).
    /// The file stays rejected for this boot; the status file says why.
    /// </summary>
    public GatewayConfig? FallBackAfterFailedStart(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        lock (_gate)
        {
            _awaitingStart = null;
            if (Source != ConfigSource.File || TryLoadLastGood() is not { } lastGood || lastGood.Equals(Current))
            {
                return null;
            }
            LogFallback(_logger, _options.LastGoodPath);
            Apply(lastGood, ConfigSource.LastGood);
            _runningNote = $"the last good copy ({_options.LastGoodPath}) because this file was accepted but could not start: {reason}";
            WriteStatus();
            return lastGood;
        }
    }

    /// <summary>Rewrites the status file if the running-state lines changed.</summary>
    public void RefreshStatus()
    {
        CardState cardBefore;
        lock (_gate)
        {
            cardBefore = CardNow;
            WriteStatus();
        }
        AfterCardCheck(cardBefore);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        _watcher?.Dispose();
        _debounce.Dispose();
        _cardRetry.Dispose();
    }

    private void Apply(GatewayConfig config, ConfigSource source)
    {
        var old = Current;
        var diff = ConfigDiff.Between(old, config);
        Current = config;
        Source = source;
        _appliedAt = _time.GetUtcNow();
        if (!diff.IsEmpty)
        {
            LogApplied(_logger, source, diff);
            Changed?.Invoke(this, new ConfigChangedEventArgs(old, config, diff));
        }
    }

    /// <summary>Last-good, or its second copy when a power cut on FAT left the first unusable.</summary>
    private GatewayConfig? TryLoadLastGood()
    {
        var path = _options.LastGoodPath;
        if (!File.Exists(path) && !File.Exists(AtomicFile.CopyPath(path)))
        {
            return null;
        }
        ConfigLoadResult? usable = null;
        var errors = 0;
        AtomicFile.ReadWithCopy(path, bytes =>
        {
            var candidate = ConfigLoader.Parse(path, bytes, _networks);
            errors = Math.Max(errors, candidate.ErrorCount);
            usable = candidate.Accepted ? candidate : null;
            return candidate.Accepted;
        });
        if (usable is null)
        {
            LogLastGoodUnusable(_logger, path, Math.Max(errors, 1));
        }
        return usable?.Config;
    }

    private void SaveLastGood(ConfigLoadResult result)
    {
        if (result.Utf8 is null || AtomicFile.HasContent(_options.LastGoodPath, result.Utf8, AtomicFile.OwnerOnly))
        {
            return;
        }
        try
        {
            // It holds the passwords: owner-only, like the card's file should be.
            AtomicFile.Write(_options.LastGoodPath, result.Utf8, AtomicFile.OwnerOnly);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogLastGoodWriteFailed(_logger, _options.LastGoodPath, e.Message);
        }
    }

    private void WriteStatus()
    {
        var lines = new List<string> { "Config file: " + _options.ConfigPath };
        if (_lastResult is { } result)
        {
            lines.Add("Result: " + ConfigReport.Summary(result));
            lines.Add("Running: " + _runningNote);
            if (result.ErrorCount > 0)
            {
                lines.Add("Errors:");
                lines.AddRange(result.Errors.Select(d => "  " + d.ToString()));
            }
            if (result.WarningCount > 0)
            {
                lines.Add("Warnings:");
                lines.AddRange(result.Warnings.Select(d => "  " + d.ToString()));
            }
        }
        lines.Add("Configuration:");
        lines.AddRange(ConfigReport.Describe(Current).Select(l => "  " + l));
        if (_runningState is not null)
        {
            lines.Add("State:");
            try
            {
                lines.AddRange(_runningState().Select(l => "  " + l));
            }
            catch (InvalidOperationException e)
            {
                lines.Add("  (state unavailable: " + e.Message + ")");
            }
        }

        try
        {
            _status.Write(lines);
            if (_statusWriteProblem is not null)
            {
                _statusWriteProblem = null;
                LogStatusWrittenAgain(_logger, _status.StatusPath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Once per problem, not once per retry: a full card must not fill the journal too.
            if (!string.Equals(_statusWriteProblem, e.Message, StringComparison.Ordinal))
            {
                LogStatusWriteFailed(_logger, _status.StatusPath, e.Message, _options.CardRetry.TotalSeconds);
            }
            _statusWriteProblem = e.Message;
        }
    }

    /// <summary>After a load, under the lock: whether the card's file was there and readable; logged when it changes.</summary>
    private void NoteReadState(ConfigLoadResult result)
    {
        var full = Path.GetFullPath(_options.ConfigPath);
        var state = !File.Exists(full) && !Directory.Exists(full) ? CardState.Missing
            : result.Utf8 is null ? CardState.Unreadable
            : CardState.Ok;
        if (state == _readState)
        {
            return;
        }
        var before = _readState;
        _readState = state;
        switch (state)
        {
            case CardState.Missing:
                LogCardFileMissing(_logger, full, _options.CardRetry.TotalSeconds);
                break;
            case CardState.Unreadable:
                LogCardFileUnreadable(_logger, full, _options.CardRetry.TotalSeconds);
                break;
            default:
                LogCardFileBack(_logger, full, before);
                break;
        }
    }

    /// <summary>Off the lock: arms or stops the retry and tells listeners when <see cref="Card"/> changed.</summary>
    private void AfterCardCheck(CardState before)
    {
        CardState now;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            now = CardNow;
            _cardRetry.Change(now == CardState.Ok ? Timeout.InfiniteTimeSpan : _options.CardRetry, Timeout.InfiniteTimeSpan);
        }
        if (now != before)
        {
            CardChanged?.Invoke();
        }
    }

    /// <summary>
    /// The card looked at again. A file that is back (a partition mounted late, a card put back) is watched
    /// afresh and loaded; an unreadable one is read again; a status file that could not be written is tried
    /// again. One look at a time: a card that hangs must not pile up threads.
    /// </summary>
    private void OnCardRetry()
    {
        if (Interlocked.Exchange(ref _retrying, 1) == 1)
        {
            return;
        }
        try
        {
            CardState read;
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                read = _readState;
            }
            if (read == CardState.Ok)
            {
                RefreshStatus();
                return;
            }
            if ((read == CardState.Missing && !File.Exists(_options.ConfigPath)) || _abandonedRead is { IsCompleted: false })
            {
                AfterCardCheck(read);
                return;
            }
            // The folder may be a new mount over the one watched so far.
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                _watcher?.Dispose();
                _watcher = null;
                StartWatching();
            }
            Reload();
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
        finally
        {
            Volatile.Write(ref _retrying, 0);
        }
    }

    /// <summary>Temporary files a power cut or kill -9 left between write and rename (on the card they would show on the PC).</summary>
    private void RemoveLeftoverTemporaries()
    {
        foreach (var path in new[] { _status.StatusPath, _options.LastGoodPath })
        {
            foreach (var leftover in AtomicFile.RemoveLeftoverTemporaries(path))
            {
                LogLeftoverRemoved(_logger, leftover);
            }
        }
    }

    private void StartWatching()
    {
        if (!_options.Watch)
        {
            return;
        }
        var full = Path.GetFullPath(_options.ConfigPath);
        var directory = Path.GetDirectoryName(full);
        if (directory is null || !Directory.Exists(directory))
        {
            LogCannotWatch(_logger, directory ?? full);
            return;
        }
        try
        {
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            var name = Path.GetFileName(full);
            FileSystemEventHandler onEvent = (_, e) => OnFileEvent(e.Name, name);
            watcher.Changed += onEvent;
            watcher.Created += onEvent;
            watcher.Deleted += onEvent;
            watcher.Renamed += (_, e) =>
            {
                OnFileEvent(e.Name, name);
                OnFileEvent(e.OldName, name);
            };
            watcher.Error += (_, _) => ScheduleReload();
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            LogCannotWatch(_logger, directory);
        }
    }

    private void OnFileEvent(string? changed, string configName)
    {
        // FAT is case-insensitive, and the status file and temp files live in the same folder.
        if (string.Equals(changed, configName, StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.Increment(ref _fileEvents);
            ScheduleReload();
        }
    }

    private void ScheduleReload()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _debounce.Change(_options.Debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnDebounceElapsed()
    {
        try
        {
            LogFileChanged(_logger, _options.ConfigPath);
            Reload();
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    private void LogResult(ConfigLoadResult result)
    {
        if (result.Accepted)
        {
            LogAccepted(_logger, result.File, result.WarningCount);
        }
        else
        {
            LogRejected(_logger, result.File, result.ErrorCount);
        }
        foreach (var diagnostic in result.Diagnostics)
        {
            if (diagnostic.IsError)
            {
                LogDiagnosticError(_logger, diagnostic.ToString());
            }
            else
            {
                LogDiagnosticWarning(_logger, diagnostic.ToString());
            }
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Configuration {File} accepted with {Warnings} warning(s)")]
    private static partial void LogAccepted(ILogger logger, string file, int warnings);

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Configuration {File} rejected with {Errors} error(s)")]
    private static partial void LogRejected(ILogger logger, string file, int errors);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Configuration {Diagnostic}")]
    private static partial void LogDiagnosticError(ILogger logger, string diagnostic);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Configuration {Diagnostic}")]
    private static partial void LogDiagnosticWarning(ILogger logger, string diagnostic);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Configuration applied from {Source}: {Diff}")]
    private static partial void LogApplied(ILogger logger, ConfigSource source, ConfigDiff diff);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Configuration change not applied; still running the configuration from {Source}")]
    private static partial void LogKeptRunning(ILogger logger, ConfigSource source);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Falling back to the last good configuration {Path}")]
    private static partial void LogFallback(ILogger logger, string path);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "No usable configuration; running built-in safe defaults (no server, no clients)")]
    private static partial void LogDefaults(ILogger logger);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Last good configuration {Path} is unusable ({Errors} error(s))")]
    private static partial void LogLastGoodUnusable(ILogger logger, string path, int errors);

    [LoggerMessage(EventId = 109, Level = LogLevel.Warning, Message = "Cannot save the last good configuration to {Path}: {Reason}")]
    private static partial void LogLastGoodWriteFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "Cannot write the status file {Path}: {Reason} (is the card read-only or full?); the gateway runs on and tries again every {Seconds} s")]
    private static partial void LogStatusWriteFailed(ILogger logger, string path, string reason, double seconds);

    [LoggerMessage(EventId = 113, Level = LogLevel.Information, Message = "The status file {Path} is written again")]
    private static partial void LogStatusWrittenAgain(ILogger logger, string path);

    [LoggerMessage(EventId = 114, Level = LogLevel.Error, Message = "The configuration file {File} is missing: is the card's boot partition mounted? Running what the gateway has; looking again every {Seconds} s")]
    private static partial void LogCardFileMissing(ILogger logger, string file, double seconds);

    [LoggerMessage(EventId = 115, Level = LogLevel.Error, Message = "The configuration file {File} cannot be read (see the reason above); running what the gateway has; trying again every {Seconds} s")]
    private static partial void LogCardFileUnreadable(ILogger logger, string file, double seconds);

    [LoggerMessage(EventId = 116, Level = LogLevel.Information, Message = "The configuration file {File} can be read again (it was {Before})")]
    private static partial void LogCardFileBack(ILogger logger, string file, CardState before);

    [LoggerMessage(EventId = 117, Level = LogLevel.Warning, Message = "Removed {File}, left half-written by a power cut or a killed earlier run")]
    private static partial void LogLeftoverRemoved(ILogger logger, string file);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Cannot watch {Directory} for configuration changes; reload with SIGHUP")]
    private static partial void LogCannotWatch(ILogger logger, string directory);

    [LoggerMessage(EventId = 112, Level = LogLevel.Information, Message = "Configuration file {File} changed; reloading")]
    private static partial void LogFileChanged(ILogger logger, string file);
}
