import Foundation
import HWRModel

/// Settings every training run has: how many epochs at most, and the patience of early stopping.
public protocol TrainingSchedule: Codable {
    /// Most epochs to run.
    var epochs: Int { get set }
    /// Stop after this many epochs without a better validation score.
    var patience: Int { get }
}

/// The loop both trainers share: resuming from a checkpoint, epochs, the checkpoint and trainer
/// state after every epoch, the best model by validation score, early stopping and time-boxed
/// stops. What an epoch does (batches, loss, validation) is the trainer's.
///
/// Files in `output`: `checkpoint.hwrm` + `checkpoint.state` (latest, to resume), `best.hwrm` (best
/// validation score), `epoch-N.hwrm` (every epoch's model: the checkpoints a weight average takes,
/// `hwr train-line --recalibrate`).
final class TrainingRun<Config: TrainingSchedule, Record: Codable> {
    /// The model being trained (its parameters change in place).
    private(set) var model: Model
    /// Settings (a resumed run keeps its saved settings, except the epoch count).
    private(set) var config: Config
    /// The optimizer and its moments.
    var adam: Adam
    /// Epoch summaries so far.
    private(set) var history: [Record] = []
    /// Epochs done.
    private(set) var epoch = 0
    let output: String
    /// Whether a higher validation score is better (accuracy) or a lower one (error rate).
    let higherIsBetter: Bool
    private var best: Double, bestEpoch = 0

    /// Starts a run, or resumes it when `resume` is set and `output` holds a checkpoint.
    /// - Throws: `ModelError` or `DataError` if a checkpoint cannot be read, or `output` cannot be made.
    init(model: Model, config: Config, output: String, resume: Bool, higherIsBetter: Bool) throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var model = model, config = config
        var adam = Adam(layout: model.parameters.layout)
        self.higherIsBetter = higherIsBetter
        best = higherIsBetter ? -Double.infinity : Double.infinity
        if resume, FileManager.default.fileExists(atPath: "\(output)/checkpoint.state") {
            model = try Model.load(path: "\(output)/checkpoint.hwrm")
            let state = try TrainerState<Config, Record>.read("\(output)/checkpoint.state", adam: &adam)
            let epochs = config.epochs
            config = state.config
            config.epochs = epochs
            epoch = state.epoch; best = state.best; bestEpoch = state.bestEpoch; history = state.history
        }
        self.model = model; self.config = config; self.adam = adam; self.output = output
    }

    /// Runs epochs until `config.epochs`, early stopping or `stoppingAfterEpoch`.
    /// - Parameters:
    ///   - scoreName: what the score is, for the early-stopping message
    ///   - epochBody: trains epoch `epoch` (0-based) and validates; returns its record and score
    ///   - report: writes the history's report after every epoch (curves, JSON)
    /// - Returns: the best model so far.
    func run(progress: ProgressBar, stoppingAfterEpoch: Int?, scoreName: String,
             epochBody: (_ epoch: Int) throws -> (record: Record, score: Double),
             report: ([Record]) throws -> Void) throws -> Model {
        while epoch < config.epochs {
            let (record, score) = try epochBody(epoch)
            epoch += 1
            history.append(record)
            if higherIsBetter ? score > best : score < best {
                best = score; bestEpoch = epoch
                try model.write(to: "\(output)/best.hwrm")
            }
            try model.write(to: "\(output)/checkpoint.hwrm")
            try model.write(to: "\(output)/epoch-\(epoch).hwrm")
            try TrainerState(config: config, epoch: epoch, best: best, bestEpoch: bestEpoch, history: history,
                             adamStep: adam.step).write("\(output)/checkpoint.state", adam: adam)
            try report(history)
            if epoch - bestEpoch >= config.patience {
                progress.log("early stop: no better \(scoreName) for \(config.patience) epochs (best epoch \(bestEpoch))")
                break
            }
            if let stop = stoppingAfterEpoch, epoch >= stop { break }
        }
        return try Model.load(path: "\(output)/best.hwrm")
    }
}

/// The state saved beside a checkpoint model so a run can resume: settings, progress, history, and
/// the optimizer's moments. File: "HWRS" | u32 JSON length | JSON | m floats | v floats.
struct TrainerState<Config: Codable, Record: Codable>: Codable {
    var config: Config
    var epoch: Int
    var best: Double
    var bestEpoch: Int
    var history: [Record]
    var adamStep: Int

    func write(_ path: String, adam: Adam) throws {
        var data = Data("HWRS".utf8)
        let json = try JSONEncoder().encode(self)
        data.appendLittleEndianU32(UInt32(json.count))
        data.append(json)
        for x in adam.m { data.appendLittleEndianU32(x.bitPattern) }
        for x in adam.v { data.appendLittleEndianU32(x.bitPattern) }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func read(_ path: String, adam: inout Adam) throws -> TrainerState {
        guard let data = FileManager.default.contents(atPath: path), data.count > 8, data.prefix(4) == Data("HWRS".utf8) else {
            throw DataError.badFile("\(path): not a trainer state file")
        }
        let bytes = [UInt8](data)
        func u32(_ o: Int) -> UInt32 { UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24 }
        let jsonLength = Int(u32(4))
        let n = adam.m.count
        guard bytes.count == 8 + jsonLength + 8 * n else { throw DataError.badFile("\(path): size does not match the model") }
        let state = try JSONDecoder().decode(TrainerState.self, from: Data(bytes[8..<(8 + jsonLength)]))
        var o = 8 + jsonLength
        for i in 0..<n { adam.m[i] = Float(bitPattern: u32(o)); o += 4 }
        for i in 0..<n { adam.v[i] = Float(bitPattern: u32(o)); o += 4 }
        adam.step = state.adamStep
        return state
    }
}

extension Data {
    mutating func appendLittleEndianU32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
