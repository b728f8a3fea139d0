import ArgumentParser
import Foundation
import HWRImage
import HWRModel
import HWRTraining

/// `hwr`: recognise handwriting, train and evaluate models.
@main
struct HWR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hwr",
        abstract: "Handwriting recognition: digits and letters with a CRNN.",
        subcommands: [Recognize.self, Visualize.self, WorkerCommand.self, BrokerCommand.self, KeygenCommand.self, Train.self, TrainLine.self, Eval.self, Bench.self, Preprocess.self])
}
