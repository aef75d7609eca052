namespace Firmware.Protocol.Pptp;

/// <summary>What <see cref="PptpStartRefusal.OnBytesReceived"/> asks the transport to do next.</summary>
public enum PptpRefusalStep
{
    /// <summary>Read more bytes (the Start-Control-Connection-Request is not complete yet).</summary>
    NeedMoreData,
    /// <summary>Send the reply that was written, then close.</summary>
    SendReplyAndClose,
    /// <summary>Close without a word: the bytes are not a PPTP Start-Control-Connection-Request.</summary>
    Close,
}

/// <summary>
/// The answer to a control connection the server will not serve (full, a source over its limit, a locked-out
/// address): RFC 2637 lets the server say why in the Start-Control-Connection-Reply's result and error codes,
/// so the client can show "server full" instead of "peer closed the connection". Pure and small on purpose: it
/// holds one message's worth of bytes and no call or PPP state, so a refused connection costs almost nothing.
/// </summary>
public sealed class PptpStartRefusal
{
    private readonly PptpStreamReassembler _reassembler = new();
    private readonly StartControlConnectionReply _reply;
    private bool _done;

    /// <param name="result">The SCCRP Result Code (e.g. <see cref="StartControlResult.NotAuthorized"/> for a locked source).</param>
    /// <param name="error">The General Error Code, meaningful with <see cref="StartControlResult.GeneralError"/>.</param>
    /// <param name="identity">Our host name, vendor, firmware and capabilities, as a served connection announces them.</param>
    public PptpStartRefusal(StartControlResult result, PptpErrorCode error, PptpControlOptions identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (result == StartControlResult.Successful)
        {
            throw new ArgumentOutOfRangeException(nameof(result), "a refusal cannot be successful");
        }
        _reply = PptpControlConnection.StartReply(identity, result, result == StartControlResult.GeneralError ? error : PptpErrorCode.None);
    }

    /// <summary>The reply's length: the size <see cref="OnBytesReceived"/> needs for its output.</summary>
    public static int ReplyLength => PptpControlCodec.FixedLength(PptpControlMessageType.StartControlConnectionReply);

    /// <summary>
    /// Feeds bytes from the connection. On <see cref="PptpRefusalStep.SendReplyAndClose"/> the reply is in
    /// <paramref name="reply"/>[..<paramref name="replyLength"/>]. The first whole message decides: anything but
    /// an SCCRQ, or a broken stream, closes silently; after a decision every further call says Close.
    /// </summary>
    public PptpRefusalStep OnBytesReceived(ReadOnlySpan<byte> data, Span<byte> reply, out int replyLength)
    {
        replyLength = 0;
        if (_done)
        {
            return PptpRefusalStep.Close;
        }
        var status = _reassembler.TryReadFrame(ref data, out var frame);
        if (status == PptpFramingStatus.NeedMoreData)
        {
            return PptpRefusalStep.NeedMoreData;
        }
        _done = true;
        if (status == PptpFramingStatus.Fatal
            || PptpControlCodec.TryDecode(frame, out var message) != PptpDecodeStatus.Ok
            || message is not StartControlConnectionRequest)
        {
            return PptpRefusalStep.Close;
        }
        replyLength = PptpControlCodec.Encode(_reply, reply);
        return PptpRefusalStep.SendReplyAndClose;
    }
}
