namespace Firmware.Platform.Linux.Testing;

/// <summary>
/// Sysctl values and nft scripts in memory, for tests: starts from the values given (ip_forward 0 unless
/// told), records every nft script, and never touches the host.
/// </summary>
public sealed class FakeKernelSettings : IKernelSettings
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _sysctl = new(StringComparer.Ordinal) { ["net.ipv4.ip_forward"] = "0" };
    private readonly List<string> _nftScripts = [];

    public bool HasNft { get; init; } = true;

    public IReadOnlyList<string> NftScripts
    {
        get
        {
            lock (_gate)
            {
                return [.. _nftScripts];
            }
        }
    }

    public string Sysctl(string key)
    {
        lock (_gate)
        {
            return _sysctl[key];
        }
    }

    public string WriteSysctl(string key, string value)
    {
        lock (_gate)
        {
            var previous = _sysctl.GetValueOrDefault(key) ?? throw new IOException($"no sysctl {key}");
            _sysctl[key] = value;
            return previous;
        }
    }

    public string? RunNft(string script)
    {
        lock (_gate)
        {
            _nftScripts.Add(script);
            return null;
        }
    }
}
