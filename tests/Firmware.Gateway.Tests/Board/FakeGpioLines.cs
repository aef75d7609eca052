using Firmware.Platform.Gpio;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Board;

/// <summary>An in-memory GPIO driver: tests set input levels and read each output's on/off timeline.</summary>
internal sealed class FakeGpioLines(TimeProvider time) : IGpioLines
{
    private readonly Dictionary<int, FakeInput> _inputs = [];
    private readonly Dictionary<string, FakeOutput> _outputs = new(StringComparer.Ordinal);

    public string Description => "fake";

    /// <summary>Lines whose opening fails like a busy or forbidden line.</summary>
    public HashSet<int> BrokenLines { get; } = [];

    /// <summary>Levels inputs report when opened (default: released for their polarity).</summary>
    public Dictionary<int, bool> InitialLevels { get; } = [];

    public List<GpioInputRequest> InputRequests { get; } = [];

    public FakeOutput Output(string name) => _outputs[name];

    public bool HasOutput(string name) => _outputs.ContainsKey(name);

    public FakeInput Input(int line) => _inputs[line];

    public bool IsInputOpen(int line) => _inputs.TryGetValue(line, out var input) && !input.Closed;

    public IGpioInput OpenInput(GpioInputRequest request, Action<GpioLevelChange> onLevelChanged)
    {
        if (BrokenLines.Contains(request.Line))
        {
            throw new IOException($"line {request.Line} busy");
        }
        InputRequests.Add(request);
        var level = InitialLevels.TryGetValue(request.Line, out var l) ? l : request.ActiveLow;
        var input = new FakeInput(onLevelChanged, time) { Level = level };
        _inputs[request.Line] = input;
        return input;
    }

    public IGpioOutput OpenOutput(string name, int line) => Open(name, line, null);

    /// <summary>When set, LED-class devices are opened for real under this directory.</summary>
    public string? LedRoot { get; set; }

    public IGpioOutput OpenLedDevice(string name, string device) =>
        LedRoot is null ? Open(name, -1, device) : LedClassDevice.Open(device, LedRoot);

    public void Dispose()
    {
    }

    private FakeOutput Open(string name, int line, string? device)
    {
        if (BrokenLines.Contains(line))
        {
            throw new UnauthorizedAccessException($"line {line} forbidden");
        }
        var output = new FakeOutput(time, line, device);
        _outputs[name] = output;
        return output;
    }

    internal sealed class FakeInput(Action<GpioLevelChange> onLevelChanged, TimeProvider time) : IGpioInput
    {
        public bool Level { get; set; }

        public bool Closed { get; private set; }

        /// <summary>Drives the line to <paramref name="level"/> and reports the edge (no edge, no report).</summary>
        public void Set(bool level)
        {
            if (level == Level)
            {
                return;
            }
            Level = level;
            onLevelChanged(new GpioLevelChange(level, time.GetTimestamp()));
        }

        public bool ReadLevel() => Level;

        public void Dispose() => Closed = true;
    }

    internal sealed class FakeOutput(TimeProvider time, int line, string? device) : IGpioOutput
    {
        public int Line { get; } = line;

        public string? Device { get; } = device;

        public bool On { get; private set; }

        public bool Disposed { get; private set; }

        /// <summary>Every write, with when it happened.</summary>
        public List<(DateTimeOffset At, bool On)> Writes { get; } = [];

        public void Write(bool on)
        {
            if (Disposed)
            {
                throw new ObjectDisposedException(nameof(FakeOutput));
            }
            On = on;
            Writes.Add((time.GetUtcNow(), on));
        }

        /// <summary>The state at <paramref name="at"/> from the timeline (off before the first write).</summary>
        public bool StateAt(DateTimeOffset at)
        {
            var state = false;
            foreach (var (when, on) in Writes)
            {
                if (when > at)
                {
                    break;
                }
                state = on;
            }
            return state;
        }

        public void Dispose() => Disposed = true;
    }
}

/// <summary>A FakeTimeProvider that counts the timers created through it.</summary>
internal sealed class CountingTimeProvider(FakeTimeProvider inner) : TimeProvider
{
    public int TimersCreated { get; private set; }

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        TimersCreated++;
        return inner.CreateTimer(callback, state, dueTime, period);
    }
}

/// <summary>A sink that records commands (and can refuse them like a full queue).</summary>
internal sealed class RecordingSink : Firmware.Gateway.Board.IGatewayCommandSink
{
    public List<Firmware.Gateway.Board.GatewayCommand> Commands { get; } = [];

    public bool Full { get; set; }

    public bool TryPost(Firmware.Gateway.Board.GatewayCommand command)
    {
        if (Full)
        {
            return false;
        }
        Commands.Add(command);
        return true;
    }
}
