namespace Firmware.Protocol.Ppp;

/// <summary>Where control protocols send their packets; the session frames them as PPP.</summary>
public interface IPppControlOutput
{
    /// <summary>Sends one packet (Code, Identifier, Length, Data) under <paramref name="protocol"/>.</summary>
    void SendControl(PppProtocol protocol, ReadOnlySpan<byte> packet);
}

/// <summary>How a protocol classifies a packet code the generic automaton does not know (codes above 7).</summary>
public enum ExtendedCodeResult
{
    /// <summary>Not a code of this protocol: the automaton sends a Code-Reject (RUC).</summary>
    Unknown,
    /// <summary>An Echo/Discard-style packet (RXR): handled by <see cref="ControlProtocol.OnEchoOrDiscard"/> in Opened only.</summary>
    EchoOrDiscard,
    /// <summary>The protocol dealt with it itself (e.g. LCP Protocol-Reject, CCP Reset-Request).</summary>
    Handled,
}

/// <summary>
/// A PPP control protocol (LCP, IPCP, IPv6CP, CCP …) on top of the one RFC 1661 automaton.
/// <para>
/// To add a protocol: derive from this class, pass the protocol number and a name to the constructor, call
/// <see cref="AddOption"/> once per option (one small <see cref="PppOption"/> class each), and override only
/// what differs: extra packet codes (<see cref="ReceiveExtendedCode"/>), and the layer callbacks
/// (<see cref="OnThisLayerUp"/> …) to publish what was negotiated. The automaton does everything else:
/// states, timers, counters, identifiers, Ack/Nak/Reject assembly, Max-Failure, Code-Reject.
/// </para>
/// </summary>
public abstract class ControlProtocol : IDisposable
{
    // A protocol has a handful of options: a search of the list beats a 256-slot table in every session.
    private readonly List<PppOption> _options = [];

    /// <param name="protocol">The protocol number its packets travel under.</param>
    /// <param name="name">Readable name ("LCP", "IPCP" …).</param>
    /// <param name="settings">Restart timer and counters.</param>
    /// <param name="time">Time source for the restart timer.</param>
    /// <param name="output">Where packets go.</param>
    /// <param name="dispatch">Posts timer expiries into the session's loop (null: inline).</param>
    protected ControlProtocol(PppProtocol protocol, string name, PppAutomatonSettings settings, TimeProvider time, IPppControlOutput output, Action<Action>? dispatch)
    {
        Protocol = protocol;
        Name = name;
        Automaton = new PppAutomaton(this, settings, time, output, dispatch);
    }

    /// <summary>The protocol number.</summary>
    public PppProtocol Protocol { get; }

    /// <summary>Readable name.</summary>
    public string Name { get; }

    /// <summary>The automaton driving this protocol.</summary>
    public PppAutomaton Automaton { get; }

    /// <summary>Shortcut for the automaton's state.</summary>
    public PppState State => Automaton.State;

    internal IReadOnlyList<PppOption> Options => _options;

    internal PppOption? FindOption(byte type)
    {
        foreach (var option in _options)
        {
            if (option.Type == type)
            {
                return option;
            }
        }

        return null;
    }

    /// <summary>Registers an option handler; one per Type.</summary>
    protected void AddOption(PppOption option)
    {
        ArgumentNullException.ThrowIfNull(option);
        if (FindOption(option.Type) is not null)
        {
            throw new InvalidOperationException($"{Name} option {option.Type} registered twice");
        }

        option.Attach(this);
        _options.Add(option);
    }

    /// <summary>Hands one packet of this protocol (Code, Identifier, Length, Data) to the automaton.</summary>
    public void Receive(ReadOnlySpan<byte> packet) => Automaton.Receive(packet);

    /// <summary>Gives up negotiating: the automaton Closes with <paramref name="reason"/> once the current packet is handled.</summary>
    public void Fail(string reason) => Automaton.RequestFailure(reason);

    /// <summary>A code above Code-Reject arrived. Default: unknown (Code-Reject).</summary>
    protected internal virtual ExtendedCodeResult ReceiveExtendedCode(byte code, byte identifier, ReadOnlySpan<byte> data) =>
        ExtendedCodeResult.Unknown;

    /// <summary>The "ser" action: an Echo/Discard-style packet arrived in Opened.</summary>
    protected internal virtual void OnEchoOrDiscard(byte code, byte identifier, ReadOnlySpan<byte> data)
    {
    }

    /// <summary>A Terminate-Request arrived in <paramref name="state"/> (before the automaton handles it).</summary>
    protected internal virtual void OnTerminateRequest(PppState state, ReadOnlySpan<byte> data)
    {
    }

    /// <summary>The peer Code-Rejected one of our codes (RXJ+ cases: e.g. stop sending echoes).</summary>
    protected internal virtual void OnCodeRejected(byte code)
    {
    }

    /// <summary>This-Layer-Up: the options in force are the last request we acked and the last one the peer acked.</summary>
    protected internal virtual void OnThisLayerUp()
    {
    }

    /// <summary>This-Layer-Down.</summary>
    protected internal virtual void OnThisLayerDown()
    {
    }

    /// <summary>This-Layer-Started.</summary>
    protected internal virtual void OnThisLayerStarted()
    {
    }

    /// <summary>This-Layer-Finished.</summary>
    protected internal virtual void OnThisLayerFinished()
    {
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the timers.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Automaton.Dispose();
        }
    }
}
