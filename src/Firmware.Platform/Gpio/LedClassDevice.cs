namespace Firmware.Platform.Gpio;

/// <summary>
/// A kernel LED-class device (<c>/sys/class/leds/NAME/{brightness,trigger,max_brightness}</c>), such as the
/// Raspberry Pi's on-board ACT and PWR LEDs. While we drive it the trigger is "none" so the kernel does not
/// fight us; disposing turns it off and puts the original trigger (e.g. "mmc0", "default-on") back.
/// <para>With a state directory (the run directory, a tmpfs cleared at boot when the kernel's defaults come back
/// anyway) the original trigger is also saved there while we hold the LED, so a run ended by <c>kill -9</c> or a
/// crash is repaired at the next start: <see cref="RestoreSaved"/> puts every saved trigger back, and an LED opened
/// again takes its original trigger from the file rather than the "none" the killed run left.</para>
/// <para>Why not Iot.Device.BoardLed (Iot.Device.Bindings 4.2.0): its path is the constant /sys/class/leds, so it
/// cannot be tested against a directory of our own; it does not restore the trigger on Dispose; and a trial publish
/// with it grew the Native AOT binary (see README, "Buttons and LEDs"), for three small file writes.</para>
/// </summary>
public sealed class LedClassDevice : IGpioOutput
{
    /// <summary>Where the kernel publishes LED-class devices.</summary>
    public const string DefaultRoot = "/sys/class/leds";

    private readonly string _directory;
    private readonly string? _originalTrigger;
    private readonly string _onValue;
    private bool? _lastWritten;
    private bool _disposed;

    private readonly string? _savedTriggerPath;

    private LedClassDevice(string directory, string? originalTrigger, string onValue, string? savedTriggerPath)
    {
        _directory = directory;
        _originalTrigger = originalTrigger;
        _onValue = onValue;
        _savedTriggerPath = savedTriggerPath;
    }

    /// <summary>The trigger that was active before we took the LED over (null if the file had none marked).</summary>
    public string? OriginalTrigger => _originalTrigger;

    /// <summary>Takes over the LED <paramref name="device"/> under <paramref name="root"/> (injectable for tests).</summary>
    /// <param name="device">The LED's name ("ACT").</param>
    /// <param name="root">Where LED-class devices live.</param>
    /// <param name="stateDirectory">Where the original trigger is kept while we hold the LED (null: nowhere).</param>
    /// <exception cref="IOException">The device does not exist or cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write the LED's files.</exception>
    public static LedClassDevice Open(string device, string root = DefaultRoot, string? stateDirectory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        ArgumentNullException.ThrowIfNull(root);
        if (device.Contains('/', StringComparison.Ordinal) || device is "." or "..")
        {
            throw new ArgumentException($"'{device}' is not an LED device name", nameof(device));
        }

        var directory = Path.Combine(root, device);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"LED device {directory} does not exist");
        }

        var triggerPath = Path.Combine(directory, "trigger");
        var original = File.Exists(triggerPath) ? ParseActiveTrigger(File.ReadAllText(triggerPath)) : null;
        var saved = stateDirectory is null ? null : Path.Combine(stateDirectory, device + SavedSuffix);
        if (saved is not null && File.Exists(saved) && File.ReadAllText(saved).Trim() is { Length: > 0 } left)
        {
            // A previous run was killed while it held this LED: what it saved is the real original.
            original = left;
        }
        else if (saved is not null && original is not null)
        {
            Directory.CreateDirectory(stateDirectory!);
            var temporary = $"{saved}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, original);
            File.Move(temporary, saved, overwrite: true);
        }
        var maxPath = Path.Combine(directory, "max_brightness");
        var onValue = File.Exists(maxPath) ? File.ReadAllText(maxPath).Trim() : "1";
        if (onValue.Length == 0 || onValue == "0")
        {
            onValue = "1";
        }

        if (original is not null)
        {
            File.WriteAllText(triggerPath, "none");
        }
        var led = new LedClassDevice(directory, original, onValue, original is null ? null : saved);
        led.Write(false);
        return led;
    }

    private const string SavedSuffix = ".trigger";

    /// <summary>
    /// Puts back every trigger saved in <paramref name="stateDirectory"/> by a run that did not get to (killed, crashed)
    /// and forgets it. Call once at start, before opening LEDs. Returns the LEDs restored ("ACT: mmc0") for the log.
    /// </summary>
    public static IReadOnlyList<string> RestoreSaved(string root, string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(stateDirectory);
        var restored = new List<string>();
        if (!Directory.Exists(stateDirectory))
        {
            return restored;
        }
        foreach (var saved in Directory.GetFiles(stateDirectory, "*" + SavedSuffix))
        {
            var device = Path.GetFileName(saved)[..^SavedSuffix.Length];
            try
            {
                var trigger = File.ReadAllText(saved).Trim();
                var triggerPath = Path.Combine(root, device, "trigger");
                if (trigger.Length > 0 && File.Exists(triggerPath))
                {
                    File.WriteAllText(Path.Combine(root, device, "brightness"), "0");
                    File.WriteAllText(triggerPath, trigger);
                    restored.Add($"{device}: {trigger}");
                }
                File.Delete(saved);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                restored.Add($"{device}: not restored ({e.Message})");
            }
        }
        return restored;
    }

    /// <summary>The trigger file lists every trigger and marks the active one in brackets: "none [mmc0] timer".</summary>
    public static string? ParseActiveTrigger(string triggerFile)
    {
        ArgumentNullException.ThrowIfNull(triggerFile);
        foreach (var word in triggerFile.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (word.Length > 2 && word[0] == '[' && word[^1] == ']')
            {
                return word[1..^1];
            }
        }
        return null;
    }

    public void Write(bool on)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_lastWritten == on)
        {
            return;
        }
        File.WriteAllText(Path.Combine(_directory, "brightness"), on ? _onValue : "0");
        _lastWritten = on;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            File.WriteAllText(Path.Combine(_directory, "brightness"), "0");
            if (_originalTrigger is not null)
            {
                File.WriteAllText(Path.Combine(_directory, "trigger"), _originalTrigger);
            }
            if (_savedTriggerPath is not null)
            {
                File.Delete(_savedTriggerPath);
            }
        }
        catch (IOException)
        {
            // The device went away (module unloaded): nothing left to restore.
        }
        catch (UnauthorizedAccessException)
        {
            // Permissions changed under us; leaving the LED as it is is the only option.
        }
    }
}
