namespace Firmware.Platform.Gre;

/// <summary>
/// Where GRE packets leave and arrive: the raw IP-protocol-47 socket on Linux, or an in-memory network when
/// whole gateways run in one test process. Peers are IPv4 address keys (<see cref="RawGreSocket.AddressKey"/>).
/// </summary>
public interface IGreTransport : IDisposable
{
    /// <summary>
    /// Blocks until at least one datagram arrives and receives what is ready into the batch's leading slots
    /// (each with its IPv4 header, as a raw socket gives it). Returns the count; 0 when nothing came within a
    /// short while (the reader looks at its stop flag), -1 once the transport is closed.
    /// </summary>
    int Receive(GreReceiveBatch batch);

    /// <summary>Sends every packet in the batch (in order); a packet the network refuses is lost, as on a wire.</summary>
    void Send(GreSendBatch batch);

    /// <summary>Sends one packet now.</summary>
    void Send(ReadOnlySpan<byte> grePacket, uint peer);

    /// <summary>Packets the kernel refused to send (no route, full buffers, a firewall).</summary>
    long SendFailures { get; }
}
