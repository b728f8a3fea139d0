import ArgumentParser
import Foundation
import HWRImage
import HWRKernels
import HWRModel
import HWRRecognition
import HWRTraining
import Logging

/// `hwr`: recognise handwriting, train and evaluate models.
@main
struct HWR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hwr",
        abstract: "Handwriting recognition: digits and letters with a CRNN.",
        subcommands: [Recognize.self, Visualize.self, WorkerCommand.self, BrokerCommand.self, KeygenCommand.self, Train.self, TrainLine.self, Eval.self, Bench.self, Quantize.self, Preprocess.self])

    /// The settings this process owns, made before any command runs: OpenBLAS single-threaded (the
    /// engine splits batches over threads itself; libhwr.so never changes this for a host), and the
    /// engine's diagnostics to stderr through swift-log (warnings and above, or $HWR_LOG_LEVEL).
    static func main() {
        setKernelThreads(1)
        let level = ProcessInfo.processInfo.environment["HWR_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        Diagnostics.route(to: Logger(label: "hwr"))
        // A command's own errors read as `recognize` reports a file's ("hwr: ..."); usage errors,
        // help and --version as the argument parser prints them.
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch let error as CLIError {
            FileHandle.standardError.write("hwr: \(error)\n".data(using: .utf8)!)
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }

    @Flag(help: "Print the versions of the command, the library and the models, and exit.") var version = false

    func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        VersionReport.lines().forEach { print($0) }
    }
}
