using Firmware.Gateway.Hooks;

namespace Firmware.Gateway.Tests.Hooks;

public sealed class HookRunnerTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pptp-gw-hook-");
    private readonly LinkHookContext _link = new("pptp0", "10.0.0.2", "10.0.0.1", "alice", "hq", "192.0.2.53", null, 1234, 5678, TimeSpan.FromSeconds(61));

    public void Dispose() => _dir.Delete(recursive: true);

    private string Script(string body)
    {
        var path = Path.Combine(_dir.FullName, "hook.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public async Task Script_gets_pppd_arguments_and_environment()
    {
        var script = Script("echo \"$1|$2|$3|$4|$5|$6|$PEERNAME|$IPLOCAL|$IPREMOTE|$DNS1|${DNS2-unset}|$BYTES_SENT|$BYTES_RCVD|$CONNECT_TIME\"");
        var (outcome, output) = await new HookRunner(TimeSpan.FromSeconds(10)).RunAsync(script, _link);
        Assert.Equal(HookOutcome.Succeeded, outcome);
        Assert.Equal("pptp0||0|10.0.0.2|10.0.0.1|hq|alice|10.0.0.2|10.0.0.1|192.0.2.53|unset|1234|5678|61", output);
    }

    [Fact]
    public async Task A_hanging_script_is_killed_at_the_timeout()
    {
        var script = Script("sleep 30");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (outcome, _) = await new HookRunner(TimeSpan.FromMilliseconds(300)).RunAsync(script, _link);
        Assert.Equal(HookOutcome.TimedOut, outcome);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Failure_and_missing_script_are_reported_not_thrown()
    {
        var (failed, output) = await new HookRunner(TimeSpan.FromSeconds(10)).RunAsync(Script("echo oops >&2; exit 3"), _link);
        Assert.Equal(HookOutcome.Failed, failed);
        Assert.Equal("exit code 3: oops", output);

        var (missing, _) = await new HookRunner(TimeSpan.FromSeconds(10)).RunAsync(Path.Combine(_dir.FullName, "nope"), _link);
        Assert.Equal(HookOutcome.NotStarted, missing);
    }
}
