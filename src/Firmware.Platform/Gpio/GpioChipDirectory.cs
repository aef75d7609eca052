using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Firmware.Platform.Gpio;

/// <summary>One GPIO character device as the kernel describes it.</summary>
/// <param name="Name">The device name ("gpiochip0").</param>
/// <param name="Label">The driver label ("pinctrl-bcm2711", "pinctrl-rp1"): stable across kernels, unlike the number.</param>
/// <param name="Lines">How many lines the chip has.</param>
public sealed record GpioChip(string Name, string Label, int Lines)
{
    /// <summary>The device file ("/dev/gpiochip0").</summary>
    public string Path { get; init; } = "/dev/" + Name;

    /// <summary>The number in "gpiochipN", or -1 if the name has none.</summary>
    public int Number =>
        Name.StartsWith("gpiochip", StringComparison.Ordinal)
        && int.TryParse(Name.AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
}

/// <summary>
/// Lists /dev/gpiochip* with the GPIO_GET_CHIPINFO ioctl, so a board profile can name its chip by LABEL: a Pi 5's
/// header lines are on "pinctrl-rp1", which was gpiochip4 before Linux 6.6.45-ish and gpiochip0 after. This needs
/// no libgpiod (nothing in this program does).
/// </summary>
public static partial class GpioChipDirectory
{
    private const int ORdOnly = 0;
    private const int OCloexec = 0x80000;
    private const int ChipInfoSize = 32 + 32 + 4;

    // _IOR(0xB4, 0x01, struct gpiochip_info): read direction (2) << 30 | size << 16 | type << 8 | nr.
    private const uint GpioGetChipInfoIoctl = (2u << 30) | (ChipInfoSize << 16) | (0xB4u << 8) | 0x01u;

    /// <summary>Reads every chip under <paramref name="devRoot"/>; chips that cannot be read are described in
    /// <paramref name="problems"/> instead (typically "permission denied": the user is not in group gpio).</summary>
    public static IReadOnlyList<GpioChip> Enumerate(string devRoot, out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(devRoot);
        var chips = new List<GpioChip>();
        var trouble = new List<string>();
        problems = trouble;
        if (!Directory.Exists(devRoot))
        {
            trouble.Add($"{devRoot} does not exist");
            return chips;
        }

        var paths = Directory.GetFiles(devRoot, "gpiochip*");
        Array.Sort(paths, StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (TryReadChipInfo(path, out var chip, out var problem))
            {
                chips.Add(chip);
            }
            else
            {
                trouble.Add(problem);
            }
        }
        return chips;
    }

    /// <summary>The chip whose label is <paramref name="label"/> (ordinal, exact), or null.</summary>
    public static GpioChip? FindByLabel(IEnumerable<GpioChip> chips, string label)
    {
        ArgumentNullException.ThrowIfNull(chips);
        return chips.FirstOrDefault(c => string.Equals(c.Label, label, StringComparison.Ordinal));
    }

    private static unsafe bool TryReadChipInfo(string path, out GpioChip chip, out string problem)
    {
        chip = null!;
        var fd = Open(path, ORdOnly | OCloexec);
        if (fd < 0)
        {
            problem = $"{path}: open failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return false;
        }

        try
        {
            var info = stackalloc byte[ChipInfoSize];
            if (Ioctl(fd, GpioGetChipInfoIoctl, info) < 0)
            {
                problem = $"{path}: not a GPIO chip: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
                return false;
            }

            var bytes = new ReadOnlySpan<byte>(info, ChipInfoSize);
            chip = new GpioChip(CString(bytes[..32]), CString(bytes[32..64]), (int)BitConverter.ToUInt32(bytes[64..])) { Path = path };
            problem = string.Empty;
            return true;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
