import ConvKitCommands
import Foundation

// `convkit`: keeps freed tensor memory in the process (faster training steps), runs the
// command, and exits with its status (errors are one line on stderr).
exit(await ConvKitCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
