namespace Firmware.Protocol.Ppp;

/// <summary>The automaton's timer and counters (RFC 1661 4.6), with the RFC's suggested defaults.</summary>
public sealed record PppAutomatonSettings
{
    /// <summary>Restart timer period: 3 s.</summary>
    public TimeSpan RestartInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Configure-Requests sent without answer before giving up: 10.</summary>
    public int MaxConfigure { get; init; } = 10;

    /// <summary>Terminate-Requests sent without Terminate-Ack before finishing: 2.</summary>
    public int MaxTerminate { get; init; } = 2;

    /// <summary>Configure-Naks sent without a Configure-Ack before Naks become Rejects: 5.</summary>
    public int MaxFailure { get; init; } = 5;
}
