namespace Firmware.Platform.Gpio;

/// <summary>
/// A kernel LED-class device (<c>/sys/class/leds/NAME/{brightness,trigger,max_brightness}</c>), such as the
/// Raspberry Pi's on-board ACT and PWR LEDs. While we drive it the trigger is "none" so the kernel does not
/// fight us; disposing turns it off and puts the original trigger (e.g. "mmc0", "default-on") back.
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

    private LedClassDevice(string directory, string? originalTrigger, string onValue)
    {
        _directory = directory;
        _originalTrigger = originalTrigger;
        _onValue = onValue;
    }

    /// <summary>The trigger that was active before we took the LED over (null if the file had none marked).</summary>
    public string? OriginalTrigger => _originalTrigger;

    /// <summary>Takes over the LED <paramref name="device"/> under <paramref name="root"/> (injectable for tests).</summary>
    /// <exception cref="IOException">The device does not exist or cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write the LED's files.</exception>
    public static LedClassDevice Open(string device, string root = DefaultRoot)
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
        var led = new LedClassDevice(directory, original, onValue);
        led.Write(false);
        return led;
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
