using Firmware.Gateway.Cli;

return GatewayCommandLine.Run(args, Console.Out, Console.Error);
