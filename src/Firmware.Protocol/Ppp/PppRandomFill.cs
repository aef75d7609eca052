namespace Firmware.Protocol.Ppp;

/// <summary>
/// Fills <paramref name="destination"/> with random bytes: magic numbers, interface identifiers.
/// Production passes the kernel's getrandom (<c>SystemRandom.Fill</c>); tests pass a seeded source so runs repeat.
/// </summary>
public delegate void PppRandomFill(Span<byte> destination);
