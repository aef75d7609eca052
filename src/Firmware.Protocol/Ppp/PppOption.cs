namespace Firmware.Protocol.Ppp;

/// <summary>What we answer to one option of the peer's Configure-Request.</summary>
public enum OptionVerdict
{
    /// <summary>Acceptable as sent.</summary>
    Ack,
    /// <summary>Recognised but not acceptable; the hint says what would be.</summary>
    Nak,
    /// <summary>Not negotiable here.</summary>
    Reject,
}

/// <summary>
/// One configuration option of one control protocol, both directions: the value we request from the peer
/// ("want"/"got" in pppd terms) and how we judge the peer's value ("his"). The automaton calls these; each
/// option is a small class so that a protocol is just a list of them (see <see cref="ControlProtocol"/>).
/// Values exclude the Type and Length octets.
/// </summary>
public abstract class PppOption
{
    /// <summary>Longest value an option can carry (Length is one octet and includes Type and Length).</summary>
    public const int MaxValueLength = 253;

    /// <param name="type">The option's Type octet.</param>
    /// <param name="name">A readable name for logs and reasons.</param>
    protected PppOption(byte type, string name)
    {
        Type = type;
        Name = name;
    }

    /// <summary>The Type octet.</summary>
    public byte Type { get; }

    /// <summary>Readable name.</summary>
    public string Name { get; }

    /// <summary>The protocol that owns this option (set when it is added).</summary>
    protected ControlProtocol? Owner { get; private set; }

    internal void Attach(ControlProtocol owner) => Owner = owner;

    /// <summary>Called when a fresh negotiation begins: go back to what we want by configuration.</summary>
    public virtual void ResetLocal()
    {
    }

    /// <summary>Writes the value we request into <paramref name="value"/>; returns its length, or -1 to leave the option out.</summary>
    public virtual int WriteRequest(Span<byte> value) => -1;

    /// <summary>The peer Nak'd our option suggesting <paramref name="suggested"/>.</summary>
    public virtual void ApplyNak(ReadOnlySpan<byte> suggested)
    {
    }

    /// <summary>The peer's Nak suggests this option although we did not request it (RFC 1661 5.3).</summary>
    public virtual void ApplyUnrequestedNak(ReadOnlySpan<byte> suggested)
    {
    }

    /// <summary>The peer rejected our option: stop requesting it.</summary>
    public virtual void ApplyReject()
    {
    }

    /// <summary>Called before the peer's Configure-Request is judged: forget the previous request's value.</summary>
    public virtual void ResetPeer()
    {
    }

    /// <summary>
    /// Judges the peer's value. For <see cref="OptionVerdict.Nak"/> write the suggested value into
    /// <paramref name="hint"/> (at most <see cref="MaxValueLength"/> bytes) and set <paramref name="hintLength"/>.
    /// Record the value when acceptable: the last judged request is the one in force at This-Layer-Up.
    /// </summary>
    public abstract OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength);

    /// <summary>
    /// The peer's request left this option out. Return a value length to Nak it in anyway (RFC 1661 5.3:
    /// a Nak may list options the peer should add), or -1 to accept the omission.
    /// </summary>
    public virtual int NakWhenMissing(Span<byte> hint) => -1;

    /// <summary>Gives up negotiating the whole protocol with a reason for the user (the automaton Closes).</summary>
    protected void Fail(string reason) => Owner?.Fail(reason);
}
