using Firmware.Gateway.Configuration;

namespace Firmware.Gateway.Cli;

/// <summary>What the command line reads from the machine, so tests can run the verbs in-process.</summary>
internal sealed record GatewayEnvironment(Func<string, string?> GetEnvironment, ILocalNetworkProvider LocalNetworks)
{
    public static GatewayEnvironment System { get; } = new(Environment.GetEnvironmentVariable, SystemLocalNetworks.Instance);
}
