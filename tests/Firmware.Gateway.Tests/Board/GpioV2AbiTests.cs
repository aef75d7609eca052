using System.Buffers.Binary;
using System.Diagnostics;
using Firmware.Platform.Gpio;

namespace Firmware.Gateway.Tests.Board;

/// <summary>
/// The uAPI v2 layouts and ioctl numbers, checked against the kernel's own header: a small C program includes
/// linux/gpio.h (linux-libc-dev, installed by scripts/setup), prints every sizeof, offsetof and ioctl number we rely
/// on, and each must equal our constant. Then the encoders put the right bytes at those offsets.
/// </summary>
public sealed class GpioV2AbiTests
{
    private static readonly Lazy<Dictionary<string, long>> Kernel = new(CompileAndRunHeaderProbe);

    private static Dictionary<string, long> CompileAndRunHeaderProbe()
    {
        var dir = Directory.CreateTempSubdirectory("gpio-abi");
        try
        {
            var source = Path.Combine(dir.FullName, "probe.c");
            File.WriteAllText(source, """
                #include <stddef.h>
                #include <stdio.h>
                #include <linux/gpio.h>
                #define S(t) printf(#t " %zu\n", sizeof(struct t))
                #define O(t, f) printf(#t "." #f " %zu\n", offsetof(struct t, f))
                #define I(n) printf(#n " %lu\n", (unsigned long)(n))
                int main(void) {
                  S(gpiochip_info); S(gpio_v2_line_attribute); S(gpio_v2_line_config_attribute); S(gpio_v2_line_config);
                  S(gpio_v2_line_request); S(gpio_v2_line_values); S(gpio_v2_line_info); S(gpio_v2_line_event);
                  O(gpio_v2_line_config, flags); O(gpio_v2_line_config, num_attrs); O(gpio_v2_line_config, attrs);
                  O(gpio_v2_line_config_attribute, mask); O(gpio_v2_line_attribute, flags);
                  O(gpio_v2_line_request, offsets); O(gpio_v2_line_request, consumer); O(gpio_v2_line_request, config);
                  O(gpio_v2_line_request, num_lines); O(gpio_v2_line_request, event_buffer_size); O(gpio_v2_line_request, fd);
                  O(gpio_v2_line_info, name); O(gpio_v2_line_info, consumer); O(gpio_v2_line_info, offset); O(gpio_v2_line_info, flags);
                  O(gpio_v2_line_event, id); O(gpio_v2_line_event, offset); O(gpio_v2_line_event, line_seqno);
                  I(GPIO_GET_CHIPINFO_IOCTL); I(GPIO_V2_GET_LINEINFO_IOCTL); I(GPIO_V2_GET_LINE_IOCTL); I(GPIO_V2_LINE_SET_CONFIG_IOCTL);
                  I(GPIO_V2_LINE_GET_VALUES_IOCTL); I(GPIO_V2_LINE_SET_VALUES_IOCTL);
                  I(GPIO_V2_LINE_FLAG_USED); I(GPIO_V2_LINE_FLAG_ACTIVE_LOW); I(GPIO_V2_LINE_FLAG_INPUT); I(GPIO_V2_LINE_FLAG_OUTPUT);
                  I(GPIO_V2_LINE_FLAG_EDGE_RISING); I(GPIO_V2_LINE_FLAG_EDGE_FALLING); I(GPIO_V2_LINE_FLAG_BIAS_PULL_UP);
                  I(GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN); I(GPIO_V2_LINE_FLAG_BIAS_DISABLED); I(GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME);
                  I(GPIO_V2_LINE_ATTR_ID_FLAGS); I(GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES); I(GPIO_V2_LINE_ATTR_ID_DEBOUNCE);
                  I(GPIO_V2_LINE_EVENT_RISING_EDGE); I(GPIO_V2_LINE_EVENT_FALLING_EDGE);
                  I(GPIO_MAX_NAME_SIZE); I(GPIO_V2_LINES_MAX); I(GPIO_V2_LINE_NUM_ATTRS_MAX);
                  return 0;
                }
                """);
            var exe = Path.Combine(dir.FullName, "probe");
            Run("cc", ["-Wall", "-Werror", "-o", exe, source]);
            var values = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var line in Run(exe, []).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                values[parts[0]] = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            return values;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Run(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), $"{file} did not finish within 60 s");
        Assert.True(process.ExitCode == 0, $"{file} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    public static TheoryData<string, long> Expected => new()
    {
        { "gpiochip_info", GpioV2Abi.ChipInfoSize },
        { "gpio_v2_line_attribute", GpioV2Abi.LineAttributeSize },
        { "gpio_v2_line_config_attribute", GpioV2Abi.LineConfigAttributeSize },
        { "gpio_v2_line_config", GpioV2Abi.LineConfigSize },
        { "gpio_v2_line_request", GpioV2Abi.LineRequestSize },
        { "gpio_v2_line_values", GpioV2Abi.LineValuesSize },
        { "gpio_v2_line_info", GpioV2Abi.LineInfoSize },
        { "gpio_v2_line_event", GpioV2Abi.LineEventSize },
        { "gpio_v2_line_config.flags", GpioV2Abi.ConfigFlagsOffset },
        { "gpio_v2_line_config.num_attrs", GpioV2Abi.ConfigNumAttrsOffset },
        { "gpio_v2_line_config.attrs", GpioV2Abi.ConfigAttrsOffset },
        { "gpio_v2_line_config_attribute.mask", 16 },
        { "gpio_v2_line_attribute.flags", 8 },
        { "gpio_v2_line_request.offsets", GpioV2Abi.RequestOffsetsOffset },
        { "gpio_v2_line_request.consumer", GpioV2Abi.RequestConsumerOffset },
        { "gpio_v2_line_request.config", GpioV2Abi.RequestConfigOffset },
        { "gpio_v2_line_request.num_lines", GpioV2Abi.RequestNumLinesOffset },
        { "gpio_v2_line_request.event_buffer_size", GpioV2Abi.RequestEventBufferSizeOffset },
        { "gpio_v2_line_request.fd", GpioV2Abi.RequestFdOffset },
        { "gpio_v2_line_info.name", GpioV2Abi.InfoNameOffset },
        { "gpio_v2_line_info.consumer", GpioV2Abi.InfoConsumerOffset },
        { "gpio_v2_line_info.offset", GpioV2Abi.InfoOffsetOffset },
        { "gpio_v2_line_info.flags", GpioV2Abi.InfoFlagsOffset },
        { "gpio_v2_line_event.id", GpioV2Abi.EventIdOffset },
        { "gpio_v2_line_event.offset", GpioV2Abi.EventOffsetOffset },
        { "gpio_v2_line_event.line_seqno", GpioV2Abi.EventLineSeqnoOffset },
        { "GPIO_GET_CHIPINFO_IOCTL", GpioV2Abi.GetChipInfoIoctl },
        { "GPIO_V2_GET_LINEINFO_IOCTL", GpioV2Abi.GetLineInfoIoctl },
        { "GPIO_V2_GET_LINE_IOCTL", GpioV2Abi.GetLineIoctl },
        { "GPIO_V2_LINE_SET_CONFIG_IOCTL", GpioV2Abi.LineSetConfigIoctl },
        { "GPIO_V2_LINE_GET_VALUES_IOCTL", GpioV2Abi.LineGetValuesIoctl },
        { "GPIO_V2_LINE_SET_VALUES_IOCTL", GpioV2Abi.LineSetValuesIoctl },
        { "GPIO_V2_LINE_FLAG_USED", (long)GpioV2LineFlags.Used },
        { "GPIO_V2_LINE_FLAG_ACTIVE_LOW", (long)GpioV2LineFlags.ActiveLow },
        { "GPIO_V2_LINE_FLAG_INPUT", (long)GpioV2LineFlags.Input },
        { "GPIO_V2_LINE_FLAG_OUTPUT", (long)GpioV2LineFlags.Output },
        { "GPIO_V2_LINE_FLAG_EDGE_RISING", (long)GpioV2LineFlags.EdgeRising },
        { "GPIO_V2_LINE_FLAG_EDGE_FALLING", (long)GpioV2LineFlags.EdgeFalling },
        { "GPIO_V2_LINE_FLAG_BIAS_PULL_UP", (long)GpioV2LineFlags.BiasPullUp },
        { "GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN", (long)GpioV2LineFlags.BiasPullDown },
        { "GPIO_V2_LINE_FLAG_BIAS_DISABLED", (long)GpioV2LineFlags.BiasDisabled },
        { "GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME", (long)GpioV2LineFlags.EventClockRealtime },
        { "GPIO_V2_LINE_ATTR_ID_FLAGS", GpioV2Abi.AttrIdFlags },
        { "GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES", GpioV2Abi.AttrIdOutputValues },
        { "GPIO_V2_LINE_ATTR_ID_DEBOUNCE", GpioV2Abi.AttrIdDebounce },
        { "GPIO_V2_LINE_EVENT_RISING_EDGE", GpioV2Abi.EventRisingEdge },
        { "GPIO_V2_LINE_EVENT_FALLING_EDGE", GpioV2Abi.EventFallingEdge },
        { "GPIO_MAX_NAME_SIZE", GpioV2Abi.MaxNameSize },
        { "GPIO_V2_LINES_MAX", GpioV2Abi.LinesMax },
        { "GPIO_V2_LINE_NUM_ATTRS_MAX", GpioV2Abi.NumAttrsMax },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Layout_matches_the_kernel_header(string what, long ours)
    {
        Assert.True(Kernel.Value.TryGetValue(what, out var kernel), $"the header probe printed no {what}");
        Assert.Equal(kernel, ours);
    }

    [Fact]
    public void Input_request_carries_offset_consumer_flags_and_debounce()
    {
        var buffer = new byte[GpioV2Abi.LineRequestSize];
        var flags = GpioV2LineFlags.Input | GpioV2LineFlags.BiasPullUp | GpioV2LineFlags.ActiveLow | GpioV2LineFlags.EdgeRising | GpioV2LineFlags.EdgeFalling;
        GpioV2Abi.EncodeLineRequest(buffer, 17, "pptp-gateway", new GpioV2LineSettings(flags, 30_000, false));

        Assert.Equal(17u, BinaryPrimitives.ReadUInt32LittleEndian(buffer));
        Assert.Equal("pptp-gateway\0"u8.ToArray(), buffer[256..269]);
        var config = buffer.AsSpan(GpioV2Abi.RequestConfigOffset);
        Assert.Equal((ulong)flags, BinaryPrimitives.ReadUInt64LittleEndian(config));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config[8..]));
        var attr = config[GpioV2Abi.ConfigAttrsOffset..];
        Assert.Equal(GpioV2Abi.AttrIdDebounce, BinaryPrimitives.ReadUInt32LittleEndian(attr));
        Assert.Equal(30_000u, BinaryPrimitives.ReadUInt32LittleEndian(attr[8..]));
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(attr[16..]));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(GpioV2Abi.RequestNumLinesOffset)));
        Assert.Equal(-1, GpioV2Abi.DecodeRequestFd(buffer));
    }

    [Fact]
    public void Output_config_sets_the_initial_value_for_line_zero_and_no_debounce()
    {
        var config = new byte[GpioV2Abi.LineConfigSize];
        GpioV2Abi.EncodeLineConfig(config, new GpioV2LineSettings(GpioV2LineFlags.Output, 30_000, OutputValue: true));
        Assert.Equal((ulong)GpioV2LineFlags.Output, BinaryPrimitives.ReadUInt64LittleEndian(config));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(8)));
        var attr = config.AsSpan(GpioV2Abi.ConfigAttrsOffset);
        Assert.Equal(GpioV2Abi.AttrIdOutputValues, BinaryPrimitives.ReadUInt32LittleEndian(attr));
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(attr[8..]));
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(attr[16..]));
    }

    [Fact]
    public void Input_without_debounce_has_no_attributes()
    {
        var config = new byte[GpioV2Abi.LineConfigSize];
        GpioV2Abi.EncodeLineConfig(config, new GpioV2LineSettings(GpioV2LineFlags.Input, 0, false));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(8)));
        Assert.All(config[GpioV2Abi.ConfigAttrsOffset..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Long_consumer_names_are_cut_and_stay_terminated()
    {
        var buffer = new byte[GpioV2Abi.LineRequestSize];
        GpioV2Abi.EncodeLineRequest(buffer, 0, new string('x', 40), default);
        Assert.Equal(0, buffer[GpioV2Abi.RequestConsumerOffset + GpioV2Abi.MaxNameSize - 1]);
        Assert.Equal((byte)'x', buffer[GpioV2Abi.RequestConsumerOffset + GpioV2Abi.MaxNameSize - 2]);
    }

    [Fact]
    public void Events_decode_timestamp_edge_and_sequence()
    {
        var ev = new byte[GpioV2Abi.LineEventSize];
        BinaryPrimitives.WriteUInt64LittleEndian(ev, 123_456_789_012UL);
        BinaryPrimitives.WriteUInt32LittleEndian(ev.AsSpan(8), GpioV2Abi.EventFallingEdge);
        BinaryPrimitives.WriteUInt32LittleEndian(ev.AsSpan(12), 27);
        BinaryPrimitives.WriteUInt32LittleEndian(ev.AsSpan(20), 5);
        Assert.True(GpioV2Abi.TryDecodeLineEvent(ev, out var decoded));
        Assert.Equal(new GpioV2LineEvent(123_456_789_012UL, Rising: false, 27, 5), decoded);

        BinaryPrimitives.WriteUInt32LittleEndian(ev.AsSpan(8), 9);
        Assert.False(GpioV2Abi.TryDecodeLineEvent(ev, out _));
        Assert.False(GpioV2Abi.TryDecodeLineEvent(ev.AsSpan(0, 47), out _));
    }

    [Fact]
    public void Line_info_gives_flags_and_consumer()
    {
        var info = new byte[GpioV2Abi.LineInfoSize];
        GpioV2Abi.EncodeLineInfoQuery(info, 17);
        Assert.Equal(17u, BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(GpioV2Abi.InfoOffsetOffset)));
        "gpiomon"u8.CopyTo(info.AsSpan(GpioV2Abi.InfoConsumerOffset));
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(GpioV2Abi.InfoFlagsOffset), (ulong)(GpioV2LineFlags.Used | GpioV2LineFlags.Input));
        var (flags, consumer) = GpioV2Abi.DecodeLineInfo(info);
        Assert.Equal(GpioV2LineFlags.Used | GpioV2LineFlags.Input, flags);
        Assert.Equal("gpiomon", consumer);
    }
}
