using System.Globalization;
using System.Text.Json;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Logging;
using Firmware.Gateway.Runtime;
using Firmware.Gateway.Status;
using Firmware.Gateway.Tests.Configuration;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Tests.Status;

public class ProcessStatusTests
{
    [Fact]
    public void Capture_counts_allocations_collections_and_the_resident_set()
    {
        var before = ProcessStatus.Capture();
        var block = new byte[4 << 20];
        GC.KeepAlive(block);
        GC.Collect(0);
        var after = ProcessStatus.Capture();

        // Imprecise by design: a thread's allocation context is counted when it is handed out, so the difference
        // may fall short of the array by up to a context per thread.
        Assert.True(after.AllocatedBytes - before.AllocatedBytes >= block.Length - (256 << 10),
            $"allocated {after.AllocatedBytes - before.AllocatedBytes} bytes across a {block.Length}-byte array");
        Assert.Equal(["gen0", "gen1", "gen2"], after.GcCollections.Keys.Order(StringComparer.Ordinal));
        Assert.True(after.GcCollections["gen0"] > before.GcCollections["gen0"], "a gen0 collection was counted");
        Assert.True(after.GcCollections["gen0"] >= after.GcCollections["gen1"] && after.GcCollections["gen1"] >= after.GcCollections["gen2"]);

        // The same figure the kernel shows as VmRSS, within what the process did between the two reads.
        var vmRssKb = long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Assert.InRange(after.RssBytes, vmRssKb * 1024 / 2, vmRssKb * 1024 * 2);
    }

    [Fact]
    public void Rss_is_zero_when_statm_cannot_be_read_or_parsed()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, ProcessStatus.ReadRssBytes(temp.File("missing")));
        File.WriteAllText(temp.File("statm"), "garbage");
        Assert.Equal(0, ProcessStatus.ReadRssBytes(temp.File("statm")));
        File.WriteAllText(temp.File("statm"), "1000 250 30 1 0 400 0\n");
        Assert.Equal(250L * Environment.SystemPageSize, ProcessStatus.ReadRssBytes(temp.File("statm")));
    }

    [Fact]
    public async Task Status_json_carries_the_process_object()
    {
        using var temp = new TempDirectory();
        await using var service = new GatewayService(GatewayConfig.Default, new JournalLoggerSink(TextWriter.Null, LogLevel.None),
            TimeProvider.System, new GatewayPaths(temp.File("control.sock"), temp.Path));
        var reply = new ControlReply { Ok = true, Status = service.Snapshot() };

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(reply, StatusJsonContext.Default.ControlReply));
        var process = json.RootElement.GetProperty("status").GetProperty("process");
        Assert.True(process.GetProperty("allocatedBytes").GetInt64() > 0);
        Assert.True(process.GetProperty("rssBytes").GetInt64() > 0);
        var collections = process.GetProperty("gcCollections");
        foreach (var generation in new[] { "gen0", "gen1", "gen2" })
        {
            Assert.True(collections.GetProperty(generation).GetInt64() >= 0);
        }
    }
}
