using System.Device.Spi;
using Firmware.Gateway.Board;
using Iot.Device.Board;

namespace Firmware.Gateway.Tests.Board;

/// <summary>
/// Our profiles' safe pins checked against Iot.Device.Bindings' Raspberry Pi knowledge (its RaspberryPiBoard):
/// none may be a pin its default I2C or SPI assignments use. The library backs the tables here, in the tests, and
/// not in the binary: the tables are a few lines, and a trial with its LED support grew the Native AOT binary by
/// about 99 kB (README, "Buttons and LEDs").
/// </summary>
public sealed class RaspberryPiPinKnowledgeTests
{
    [Fact]
    public void No_safe_pin_is_on_the_default_I2C_or_SPI_pins()
    {
        // These calls read its tables only: no hardware is touched on this x64 machine.
        using var board = new RaspberryPiBoard();
        var reserved = new HashSet<int>(board.GetDefaultPinAssignmentForI2c(1));
        reserved.UnionWith(board.GetDefaultPinAssignmentForSpi(new SpiConnectionSettings(0, 0)));
        reserved.UnionWith(board.GetDefaultPinAssignmentForSpi(new SpiConnectionSettings(0, 1)));
        Assert.Contains(2, reserved);  // I2C1 SDA: the library's table is the one we think it is
        Assert.Contains(11, reserved); // SPI0 SCLK
        // The Pi 5's RP1 keeps the header's functions on the same GPIO numbers, so the same pins stay out. PWM is
        // not checked: its pins are plain GPIO unless an overlay turns PWM on (the library's default PWM0 pin, 12,
        // is in our safe set on purpose; the profile's comment says so).
        Assert.Equal(12, board.GetDefaultPinAssignmentForPwm(0, 0));
        foreach (var profile in BoardProfiles.All)
        {
            Assert.Empty(profile.SafePins.Intersect(reserved));
            var pins = profile.Pins;
            Assert.All(new[] { pins.Button1, pins.Button2, pins.PowerLed, pins.TunnelLed, pins.ActivityLed },
                p => Assert.True(profile.IsSafe(p), $"{profile.Name}: default pin {p} is not safe"));
        }
    }
}
