using Firmware.Protocol.Ccp;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Tests.Ccp;

namespace Firmware.Protocol.Tests.Ppp;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringCollection
{
    public const string Name = "heap measuring (alone: it reads the whole process's heap)";
}

/// <summary>
/// What a negotiated PPP session keeps on the heap. A server holds one per call, so every buffer a session owns
/// is multiplied by the number of calls (#16: a 64 kB control-frame buffer per session was most of a server
/// session's memory). Measured alone, over many sessions, after full collections: a size, not a time.
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class PppSessionFootprintTests
{
    private const int Links = 40;

    /// <summary>Per side of a link: the PppSession with LCP, MS-CHAPv2, CCP/MPPE-128 stateless, IPCP and IPv6CP.</summary>
    private const long MaxBytesPerSession = 24 * 1024;

    [Fact]
    public void A_negotiated_MPPE_session_keeps_under_24_kB()
    {
        var policy = new MppeNegotiationPolicy { Required = true, Allow128 = true, AllowStateless = true, PreferStateless = true };
        var links = new List<MppeLink>(Links);
        var before = Heap();
        for (var i = 0; i < Links; i++)
        {
            var link = new MppeLink(policy, policy);
            link.Start();
            Assert.Equal(PppPhase.Network, link.Server.Phase);
            Assert.NotNull(link.ServerLayer?.Agreement);
            // What the test's own recorders hold is not the session's.
            link.ServerOut.AllSent.Clear();
            link.ClientOut.AllSent.Clear();
            link.ServerOut.Events.Clear();
            link.ClientOut.Events.Clear();
            links.Add(link);
        }
        var perSession = (Heap() - before) / (2 * Links);
        GC.KeepAlive(links);
        links.ForEach(l => l.Dispose());
        Assert.True(perSession <= MaxBytesPerSession, $"a negotiated session keeps {perSession} bytes (at most {MaxBytesPerSession})");
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
