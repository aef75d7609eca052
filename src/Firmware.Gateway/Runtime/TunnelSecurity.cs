using Firmware.Gateway.Configuration;
using Firmware.Protocol.Ccp;
using Firmware.Protocol.Ppp;

namespace Firmware.Gateway.Runtime;

/// <summary>Builds the CCP/MPPE layer a tunnel runs from the configured MPPE policy.</summary>
internal static class TunnelSecurity
{
    public static MppeNegotiationPolicy Policy(MppePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new MppeNegotiationPolicy
        {
            Required = policy.Required,
            Allow40 = policy.KeyLengths.Contains(40),
            Allow56 = policy.KeyLengths.Contains(56),
            Allow128 = policy.KeyLengths.Contains(128),
            AllowStateless = policy.AllowStateless,
            AllowStateful = policy.AllowStateful,
            PreferStateless = policy.PreferStateless,
        };
    }

    public static Func<PppLayerContext, IPppEncryptionLayer> EncryptionLayer(MppePolicy policy, PppSessionRole role)
        => MppeEncryptionLayer.Factory(Policy(policy), isServer: role == PppSessionRole.Server);
}
