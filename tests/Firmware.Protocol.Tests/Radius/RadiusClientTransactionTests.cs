using Firmware.Protocol.Auth;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>Identifiers, retransmission with back-off, failover and forged answers, on fake time.</summary>
public sealed class RadiusClientTransactionTests
{
    private static readonly byte[] SecretA = "secret-of-a"u8.ToArray();
    private static readonly byte[] SecretB = "secret-of-b"u8.ToArray();
    private static readonly RadiusRetryPolicy Policy = new()
    {
        InitialTimeout = TimeSpan.FromSeconds(2),
        MaxTimeout = TimeSpan.FromSeconds(5),
        AttemptsPerServer = 3,
    };

    private sealed class Harness : IDisposable
    {
        private byte _nextRandom = 1;

        public Harness(int servers = 2, RadiusIdentifierPool? sharedPool = null)
        {
            Servers = Enumerable.Range(0, servers)
                .Select(i => new RadiusServerSlot(i == 0 ? SecretA : SecretB, i == 0 && sharedPool is not null ? sharedPool : new RadiusIdentifierPool()))
                .ToArray();
            Transaction = New();
        }

        public FakeTimeProvider Time { get; } = new();

        public RadiusServerSlot[] Servers { get; }

        public RadiusClientTransaction Transaction { get; }

        public List<(RadiusOutgoing Outgoing, byte[] Bytes, TimeSpan At)> Sent { get; } = [];

        public int Completions { get; private set; }

        public RadiusClientTransaction New()
        {
            var start = Time.GetTimestamp();
            var transaction = new RadiusClientTransaction(Servers, WritePap, Fill, Policy, Time);
            transaction.Send += o => Sent.Add((o, o.Datagram.ToArray(), Time.GetElapsedTime(start)));
            transaction.Completed += _ => Completions++;
            return transaction;
        }

        /// <summary>Each Request Authenticator differs: 16 copies of a counter.</summary>
        private void Fill(Span<byte> destination) => destination.Fill(_nextRandom++);

        public void Dispose() => Transaction.Dispose();
    }

    private static int WritePap(Span<byte> destination, byte identifier, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> secret) =>
        RadiusAccessRequest.Write(destination, identifier, requestAuthenticator, secret, new RadiusLogin
        {
            Method = AuthMethod.Pap,
            UserName = "alice"u8,
            Password = "s3cret!"u8,
            NasIdentifier = "gw"u8,
        });

    /// <summary>What server <paramref name="secret"/> answers to <paramref name="request"/>.</summary>
    private static byte[] Accept(byte[] request, byte[] secret, bool messageAuthenticator = true)
    {
        var buffer = new byte[100];
        var writer = new RadiusPacketWriter(buffer, RadiusCode.AccessAccept, request[1], default);
        writer.AddUInt32(RadiusAttributeType.SessionTimeout, 60);
        if (messageAuthenticator)
        {
            writer.AddMessageAuthenticator();
        }
        var length = writer.Finish();
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), secret, request.AsSpan(4, 16)));
        return buffer[..length];
    }

    [Fact]
    public void First_answer_completes_and_releases_the_identifier()
    {
        using var h = new Harness();
        h.Transaction.Start();

        var (outgoing, request, _) = Assert.Single(h.Sent);
        Assert.Equal(0, outgoing.ServerIndex);
        Assert.True(RadiusPacket.TryParse(request, out var parsed, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(parsed, SecretA));
        Assert.Equal(1, h.Servers[0].Identifiers.InUse);

        Assert.True(h.Transaction.OnDatagram(0, Accept(request, SecretA)));
        Assert.Equal(RadiusTransactionStatus.Answered, h.Transaction.Status);
        Assert.Equal(1, h.Completions);
        Assert.Equal(0, h.Servers[0].Identifiers.InUse);
        Assert.Equal(RadiusAnswerError.None, RadiusAccessAnswer.TryRead(h.Transaction.Answer, h.Transaction.Identifier, h.Transaction.RequestAuthenticator, SecretA, AuthMethod.Pap, out var answer));
        Assert.Equal(60u, answer!.SessionTimeout);

        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Single(h.Sent);
        Assert.Equal(1, h.Completions);
    }

    [Fact]
    public void Silence_retransmits_the_same_bytes_with_back_off_then_fails_over_with_a_new_packet()
    {
        using var h = new Harness();
        h.Transaction.Start();
        h.Time.Advance(TimeSpan.FromSeconds(1.999));
        Assert.Single(h.Sent);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));   // 2 s
        h.Time.Advance(TimeSpan.FromSeconds(4));        // 6 s: 2 doubled to 4
        Assert.Equal(3, h.Sent.Count);
        h.Time.Advance(TimeSpan.FromSeconds(4.999));
        Assert.Equal(3, h.Sent.Count);                   // the third wait is capped at 5 s
        h.Time.Advance(TimeSpan.FromMilliseconds(1));   // 11 s: server A given up, B tried

        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(11)], h.Sent.Select(s => s.At));
        Assert.Equal([1, 2, 3, 1], h.Sent.Select(s => s.Outgoing.Attempt));
        Assert.Equal([0, 0, 0, 1], h.Sent.Select(s => s.Outgoing.ServerIndex));
        Assert.Equal(h.Sent[0].Bytes, h.Sent[1].Bytes);
        Assert.Equal(h.Sent[0].Bytes, h.Sent[2].Bytes);
        Assert.Equal(0, h.Servers[0].Identifiers.InUse);
        Assert.Equal(1, h.Servers[1].Identifiers.InUse);

        // Server B's packet is signed with B's secret and a new Request Authenticator.
        var toB = h.Sent[3].Bytes;
        Assert.NotEqual(h.Sent[0].Bytes.AsSpan(4, 16).ToArray(), toB.AsSpan(4, 16).ToArray());
        Assert.True(RadiusPacket.TryParse(toB, out var parsed, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(parsed, SecretB));
        Assert.Equal(RadiusVerifyError.BadMessageAuthenticator, RadiusAuthenticator.VerifyRequest(parsed, SecretA));

        // A late answer from A is not taken; B's is.
        Assert.False(h.Transaction.OnDatagram(0, Accept(h.Sent[0].Bytes, SecretA)));
        Assert.True(h.Transaction.OnDatagram(1, Accept(toB, SecretB)));
        Assert.Equal(1, h.Transaction.ServerIndex);
        Assert.Equal(RadiusTransactionStatus.Answered, h.Transaction.Status);
    }

    [Fact]
    public void When_no_server_answers_it_ends_after_every_attempt()
    {
        using var h = new Harness();
        h.Transaction.Start();
        // FakeTimeProvider runs a timer re-armed inside Advance from the new time, so step in milliseconds.
        for (var ms = 0; ms < 21_999; ms++)
        {
            h.Time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(RadiusTransactionStatus.Pending, h.Transaction.Status);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));    // 2 + 4 + 5 per server

        Assert.Equal(RadiusTransactionStatus.NoServerAnswered, h.Transaction.Status);
        Assert.Equal(6, h.Sent.Count);
        Assert.Equal(1, h.Completions);
        Assert.Equal(0, h.Servers[0].Identifiers.InUse + h.Servers[1].Identifiers.InUse);
        h.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(6, h.Sent.Count);
    }

    [Fact]
    public void Forged_answers_are_counted_and_ignored_and_the_real_one_still_completes()
    {
        using var h = new Harness();
        h.Transaction.Start();
        var request = h.Sent[0].Bytes;

        Assert.False(h.Transaction.OnDatagram(0, Accept(request, "guessed"u8.ToArray())));
        Assert.Equal(RadiusVerifyError.BadResponseAuthenticator, h.Transaction.LastRefusal);
        Assert.False(h.Transaction.OnDatagram(0, Accept(request, SecretA, messageAuthenticator: false)));
        Assert.Equal(RadiusVerifyError.MissingMessageAuthenticator, h.Transaction.LastRefusal);
        Assert.False(h.Transaction.OnDatagram(0, [1, 2, 3]));
        var otherIdentifier = Accept(request, SecretA);
        otherIdentifier[1] ^= 0x80;
        Assert.False(h.Transaction.OnDatagram(0, otherIdentifier));
        Assert.Equal(2, h.Transaction.RefusedAnswers);
        Assert.Equal(RadiusTransactionStatus.Pending, h.Transaction.Status);

        Assert.True(h.Transaction.OnDatagram(0, Accept(request, SecretA)));
        Assert.False(h.Transaction.OnDatagram(0, Accept(request, SecretA)));
        Assert.Equal(1, h.Completions);
    }

    [Fact]
    public void Outstanding_requests_never_share_an_identifier_and_a_full_pool_fails_over()
    {
        var pool = new RadiusIdentifierPool();
        using var h = new Harness(sharedPool: pool);
        var transactions = Enumerable.Range(0, 256).Select(_ => h.New()).ToList();
        transactions.ForEach(t => t.Start());
        Assert.Equal(256, transactions.Select(t => t.Identifier).Distinct().Count());
        Assert.Equal(256, pool.InUse);

        // The 257th cannot get an Identifier at server A and goes straight to B.
        h.Transaction.Start();
        Assert.Equal(1, h.Sent[^1].Outgoing.ServerIndex);

        transactions[10].Cancel();
        Assert.Equal(255, pool.InUse);
        Assert.True(pool.TryAllocate(out var again));
        Assert.Equal(transactions[10].Identifier, again);
        transactions.ForEach(t => t.Dispose());
        Assert.Equal(1, pool.InUse);
    }

    [Fact]
    public void Identifier_pool_hands_out_the_longest_free_first()
    {
        var pool = new RadiusIdentifierPool();
        Assert.True(pool.TryAllocate(out var first));
        pool.Release(first);
        Assert.True(pool.TryAllocate(out var second));
        Assert.NotEqual(first, second);
        pool.Release(200);
        Assert.Equal(1, pool.InUse);
    }
}
