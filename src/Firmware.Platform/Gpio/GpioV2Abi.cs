using System.Buffers.Binary;
using System.Text;

namespace Firmware.Platform.Gpio;

/// <summary>The line flags of the GPIO character-device uAPI v2 (enum gpio_v2_line_flag in linux/gpio.h).</summary>
[Flags]
internal enum GpioV2LineFlags : ulong
{
    None = 0,
    Used = 1UL << 0,
    ActiveLow = 1UL << 1,
    Input = 1UL << 2,
    Output = 1UL << 3,
    EdgeRising = 1UL << 4,
    EdgeFalling = 1UL << 5,
    OpenDrain = 1UL << 6,
    OpenSource = 1UL << 7,
    BiasPullUp = 1UL << 8,
    BiasPullDown = 1UL << 9,
    BiasDisabled = 1UL << 10,
    EventClockRealtime = 1UL << 11,
}

/// <summary>How one requested line is configured: the part of a gpio_v2_line_config we use.</summary>
/// <param name="Flags">Direction, bias, polarity and edges.</param>
/// <param name="DebounceMicroseconds">The kernel's debounce period (0 = none); inputs only.</param>
/// <param name="OutputValue">Initial logical value of an output.</param>
internal readonly record struct GpioV2LineSettings(GpioV2LineFlags Flags, uint DebounceMicroseconds, bool OutputValue);

/// <summary>One edge as the kernel reports it (struct gpio_v2_line_event).</summary>
/// <param name="TimestampNs">When the edge happened, CLOCK_MONOTONIC nanoseconds (the default event clock).</param>
/// <param name="Rising">True for a rising edge (of the logical value: active-low inverts it).</param>
/// <param name="Offset">The line's offset on the chip.</param>
/// <param name="LineSequence">The line's own event counter (a gap = events lost in a full kernel buffer).</param>
internal readonly record struct GpioV2LineEvent(ulong TimestampNs, bool Rising, uint Offset, uint LineSequence);

/// <summary>
/// The GPIO character-device uAPI v2 (Linux 5.10+) as byte layouts: ioctl numbers and the encoders/decoders of the
/// structures in include/uapi/linux/gpio.h. Written field by field at the kernel's offsets (the structures are
/// 64-bit aligned and identical on x86-64, arm64 and 32-bit arm), never by casting a struct, so the layout is
/// visible and a test checks every size, offset and ioctl number against the kernel header compiled by cc.
/// </summary>
internal static class GpioV2Abi
{
    public const int MaxNameSize = 32;
    public const int LinesMax = 64;
    public const int NumAttrsMax = 10;

    public const int LineAttributeSize = 16;
    public const int LineConfigAttributeSize = 24;
    public const int LineConfigSize = 272;
    public const int LineRequestSize = 592;
    public const int LineValuesSize = 16;
    public const int LineInfoSize = 256;
    public const int LineEventSize = 48;
    public const int ChipInfoSize = 68;

    // struct gpio_v2_line_config
    public const int ConfigFlagsOffset = 0;
    public const int ConfigNumAttrsOffset = 8;
    public const int ConfigAttrsOffset = 32;

    // struct gpio_v2_line_request
    public const int RequestOffsetsOffset = 0;
    public const int RequestConsumerOffset = 256;
    public const int RequestConfigOffset = 288;
    public const int RequestNumLinesOffset = 560;
    public const int RequestEventBufferSizeOffset = 564;
    public const int RequestFdOffset = 588;

    // struct gpio_v2_line_info
    public const int InfoNameOffset = 0;
    public const int InfoConsumerOffset = 32;
    public const int InfoOffsetOffset = 64;
    public const int InfoFlagsOffset = 72;

    // struct gpio_v2_line_event
    public const int EventIdOffset = 8;
    public const int EventOffsetOffset = 12;
    public const int EventLineSeqnoOffset = 20;

    public const uint AttrIdFlags = 1;
    public const uint AttrIdOutputValues = 2;
    public const uint AttrIdDebounce = 3;

    public const uint EventRisingEdge = 1;
    public const uint EventFallingEdge = 2;

    public static readonly uint GetChipInfoIoctl = Ior(0x01, ChipInfoSize);
    public static readonly uint GetLineInfoIoctl = Iowr(0x05, LineInfoSize);
    public static readonly uint GetLineIoctl = Iowr(0x07, LineRequestSize);
    public static readonly uint LineSetConfigIoctl = Iowr(0x0D, LineConfigSize);
    public static readonly uint LineGetValuesIoctl = Iowr(0x0E, LineValuesSize);
    public static readonly uint LineSetValuesIoctl = Iowr(0x0F, LineValuesSize);

    // asm-generic/ioctl.h: dir << 30 | size << 16 | type << 8 | nr; read = 2, write = 1. x86, arm and arm64 use it.
    private static uint Ior(uint nr, int size) => (2u << 30) | ((uint)size << 16) | (0xB4u << 8) | nr;

    private static uint Iowr(uint nr, int size) => (3u << 30) | ((uint)size << 16) | (0xB4u << 8) | nr;

    /// <summary>A gpio_v2_line_request for one line at <paramref name="offset"/>.</summary>
    public static void EncodeLineRequest(Span<byte> request, uint offset, string consumer, GpioV2LineSettings settings, uint eventBufferSize = 0)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        if (request.Length < LineRequestSize)
        {
            throw new ArgumentException("buffer too small for gpio_v2_line_request", nameof(request));
        }
        request[..LineRequestSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request[RequestOffsetsOffset..], offset);
        var name = request.Slice(RequestConsumerOffset, MaxNameSize - 1);
        var written = Encoding.UTF8.GetBytes(consumer.AsSpan(0, Math.Min(consumer.Length, MaxNameSize - 1)), name);
        _ = written;
        EncodeLineConfig(request.Slice(RequestConfigOffset, LineConfigSize), settings);
        BinaryPrimitives.WriteUInt32LittleEndian(request[RequestNumLinesOffset..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(request[RequestEventBufferSizeOffset..], eventBufferSize);
        BinaryPrimitives.WriteInt32LittleEndian(request[RequestFdOffset..], -1);
    }

    /// <summary>The fd the kernel returned in a gpio_v2_line_request.</summary>
    public static int DecodeRequestFd(ReadOnlySpan<byte> request) => BinaryPrimitives.ReadInt32LittleEndian(request[RequestFdOffset..]);

    /// <summary>A gpio_v2_line_config for a one-line request: the flags for all lines, then one attribute each for
    /// the debounce period (inputs with one) and the initial output value (outputs), both masked to line 0.</summary>
    public static void EncodeLineConfig(Span<byte> config, GpioV2LineSettings settings)
    {
        if (config.Length < LineConfigSize)
        {
            throw new ArgumentException("buffer too small for gpio_v2_line_config", nameof(config));
        }
        config[..LineConfigSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(config[ConfigFlagsOffset..], (ulong)settings.Flags);
        uint attrs = 0;
        if (settings.Flags.HasFlag(GpioV2LineFlags.Output))
        {
            var attr = config.Slice(ConfigAttrsOffset + ((int)attrs * LineConfigAttributeSize), LineConfigAttributeSize);
            BinaryPrimitives.WriteUInt32LittleEndian(attr, AttrIdOutputValues);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[8..], settings.OutputValue ? 1UL : 0UL);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[16..], 1UL);
            attrs++;
        }
        else if (settings.DebounceMicroseconds > 0)
        {
            var attr = config.Slice(ConfigAttrsOffset + ((int)attrs * LineConfigAttributeSize), LineConfigAttributeSize);
            BinaryPrimitives.WriteUInt32LittleEndian(attr, AttrIdDebounce);
            BinaryPrimitives.WriteUInt32LittleEndian(attr[8..], settings.DebounceMicroseconds);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[16..], 1UL);
            attrs++;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(config[ConfigNumAttrsOffset..], attrs);
    }

    /// <summary>A gpio_v2_line_values for line 0 of a request: <c>mask</c> 1 and the value in bit 0.</summary>
    public static void EncodeLineValues(Span<byte> values, bool value)
    {
        values[..LineValuesSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(values, value ? 1UL : 0UL);
        BinaryPrimitives.WriteUInt64LittleEndian(values[8..], 1UL);
    }

    /// <summary>Bit 0 of the <c>bits</c> of a gpio_v2_line_values.</summary>
    public static bool DecodeLineValue(ReadOnlySpan<byte> values) => (BinaryPrimitives.ReadUInt64LittleEndian(values) & 1) != 0;

    /// <summary>A gpio_v2_line_info asking about <paramref name="offset"/> (everything else zero, as the kernel wants).</summary>
    public static void EncodeLineInfoQuery(Span<byte> info, uint offset)
    {
        info[..LineInfoSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(info[InfoOffsetOffset..], offset);
    }

    /// <summary>The line's flags and consumer ("who holds it") from a gpio_v2_line_info.</summary>
    public static (GpioV2LineFlags Flags, string Consumer) DecodeLineInfo(ReadOnlySpan<byte> info) =>
        ((GpioV2LineFlags)BinaryPrimitives.ReadUInt64LittleEndian(info[InfoFlagsOffset..]),
            CString(info.Slice(InfoConsumerOffset, MaxNameSize)));

    /// <summary>Decodes one struct gpio_v2_line_event; false for an event id we do not know.</summary>
    public static bool TryDecodeLineEvent(ReadOnlySpan<byte> data, out GpioV2LineEvent ev)
    {
        ev = default;
        if (data.Length < LineEventSize)
        {
            return false;
        }
        var id = BinaryPrimitives.ReadUInt32LittleEndian(data[EventIdOffset..]);
        if (id is not (EventRisingEdge or EventFallingEdge))
        {
            return false;
        }
        ev = new GpioV2LineEvent(
            BinaryPrimitives.ReadUInt64LittleEndian(data),
            id == EventRisingEdge,
            BinaryPrimitives.ReadUInt32LittleEndian(data[EventOffsetOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[EventLineSeqnoOffset..]));
        return true;
    }

    /// <summary>Name, label and line count from a struct gpiochip_info.</summary>
    public static (string Name, string Label, uint Lines) DecodeChipInfo(ReadOnlySpan<byte> info) =>
        (CString(info[..MaxNameSize]), CString(info.Slice(MaxNameSize, MaxNameSize)),
            BinaryPrimitives.ReadUInt32LittleEndian(info[(2 * MaxNameSize)..]));

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }
}
