import CLoader
import Glibc
import HWRDecoding
import HWRImage
import HWRKernels
import HWRModel
import Synchronization

// The one inference path of each kind of model. Recognition, `hwr eval` and the trainers'
// validation all run a model through these types, so every accuracy figure measures the code that
// users call.

/// A character model's inference: normalised images (model.preprocessing.size squared, ink 1 on 0)
/// to class probabilities. Thread-safe: each call borrows a network instance from a pool.
public final class CharacterClassifier: @unchecked Sendable {
    /// The model.
    public let model: Model
    /// Its preprocessing (the same at training and recognition).
    public let normalizer: CharacterNormalizer
    let slots: SlotPool

    /// Wraps a character model.
    public init(_ model: Model) {
        self.model = model
        normalizer = CharacterNormalizer(size: model.preprocessing.size, box: model.preprocessing.box)
        slots = SlotPool(model, retainedInputs: Self.retainedBatch * model.preprocessing.size * model.preprocessing.size)
    }

    /// Largest batch whose workspaces a pooled slot keeps after the call (larger ones are freed):
    /// what one thread's share of a pass of `Recognizer.read` holds.
    public static let retainedBatch = 64

    /// Number of classes (`model.charset.count`).
    public var classes: Int { model.charset.count }

    /// Class probabilities of `count` normalised images stored one after another at `inputs`,
    /// written to `probabilities` (`count * classes` floats, row per image).
    /// - Parameter mask: classes allowed (others get probability 0), or nil for all.
    public func classify(normalized inputs: UnsafePointer<Float>, count: Int, mask: [Bool]? = nil,
                         into probabilities: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        slots.withSlot(inputs: count * normalizer.size * normalizer.size) { slot in
            let n = normalizer.size * normalizer.size
            let input = slot.input.reserve(count * n)
            input.update(from: inputs, count: count * n)
            let (logits, _) = slot.network.forward(input, batch: count, width: normalizer.size, mode: .inference)
            for r in 0..<count { maskedSoftmax(logits + r * classes, into: probabilities + r * classes, mask: mask) }
        }
    }

    /// Class probabilities of one decoded image (preprocessing included), into `probabilities`
    /// (`classes` floats). Allocates nothing once warm: the normaliser's buffers, the network's
    /// workspaces and its input live in a pooled slot.
    /// - Throws: `HWRError.invalidArgument` when `probabilities` has the wrong size; the image's
    ///   preprocessing error.
    public func classify(_ image: GrayImage, into probabilities: UnsafeMutableBufferPointer<Float>) throws {
        guard probabilities.count == classes, let out = probabilities.baseAddress else {
            throw HWRError.invalidArgument("probabilities must hold \(classes) floats, got \(probabilities.count)")
        }
        try slots.withSlot(inputs: normalizer.size * normalizer.size) { slot in
            let input = slot.input.reserve(normalizer.size * normalizer.size)
            try normalizer.normalize(image, into: input, scratch: &slot.scratch)
            let (logits, _) = slot.network.forward(input, batch: 1, width: normalizer.size, mode: .inference)
            maskedSoftmax(logits, into: out, mask: nil)
        }
    }

    /// Class probabilities of each decoded image (preprocessing errors per image), in one batched pass.
    public func classify(_ images: ArraySlice<GrayImage>, mask: [Bool]?) -> [Result<[Float], Error>] {
        let n = normalizer.size * normalizer.size
        var results = [Result<[Float], Error>](repeating: .success([]), count: images.count)
        slots.withSlot(inputs: images.count * n) { slot in
            let inputs = slot.input.reserve(images.count * n)
            var rows: [Int] = []
            for (i, image) in images.enumerated() {
                do {
                    try normalizer.normalize(image, into: inputs + rows.count * n, scratch: &slot.scratch)
                    rows.append(i)
                } catch { results[i] = .failure(error) }
            }
            guard !rows.isEmpty else { return }
            let (logits, _) = slot.network.forward(inputs, batch: rows.count, width: normalizer.size, mode: .inference)
            for (r, i) in rows.enumerated() {
                var p = [Float](repeating: 0, count: classes)
                p.withUnsafeMutableBufferPointer { maskedSoftmax(logits + r * classes, into: $0.baseAddress!, mask: mask) }
                results[i] = .success(p)
            }
        }
        return results
    }

    /// Softmax of one row of logits over the allowed classes (others get 0), into `p`. Finite for
    /// finite logits: the largest allowed logit is subtracted first, so the sum is at least 1.
    func maskedSoftmax(_ logits: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, mask: [Bool]?) {
        var maxLogit = -Float.infinity
        for c in 0..<classes where mask?[c] ?? true { maxLogit = max(maxLogit, logits[c]) }
        var sum: Float = 0
        for c in 0..<classes {
            p[c] = mask?[c] ?? true ? expf(logits[c] - maxLogit) : 0
            sum += p[c]
        }
        for c in 0..<classes { p[c] /= sum }
    }
}

/// A line (CTC) model's inference: a normalised line (model.preprocessing.size high, any width) to
/// per-step class probabilities (CTC posteriors, the blank last). Thread-safe like
/// `CharacterClassifier`.
public final class LineReader: @unchecked Sendable {
    /// The model.
    public let model: Model
    /// Its preprocessing (the same at training and recognition).
    public let normalizer: LineNormalizer
    let slots: SlotPool

    /// Wraps a line model.
    public init(_ model: Model) {
        self.model = model
        normalizer = LineNormalizer(height: model.preprocessing.size, box: model.preprocessing.box)
        slots = SlotPool(model, retainedInputs: Self.retainedWidth * model.preprocessing.size)
    }

    /// Widest normalised line whose workspaces a pooled slot keeps after the call (a line of about
    /// 100 characters; wider ones are freed).
    public static let retainedWidth = 2048

    /// Posteriors of one normalised line: `pixels` is `normalizer.height x width`, row-major, ink 1.
    /// A batch of one, so no padding affects the result.
    public func posteriors(normalized pixels: [Float], width: Int) -> CTCPosteriors {
        let classes = model.architecture.classes
        return slots.withSlot(inputs: pixels.count) { slot -> CTCPosteriors in
            let (logits, shape) = pixels.withUnsafeBufferPointer {
                slot.network.forward($0.baseAddress!, batch: 1, width: width, mode: .inference)
            }
            guard case let .sequence(steps, _) = shape else { return CTCPosteriors(steps: 0, classes: classes, probabilities: []) }
            var p = [Float](repeating: 0, count: steps * classes)
            softmaxRows(&p, logits, rows: steps, cols: classes)
            return CTCPosteriors(steps: steps, classes: classes, probabilities: p)
        }
    }
}

/// What one inference call needs besides the model: a network instance (with its workspaces),
/// the normaliser's buffers and the network input. Reused across calls, so a warm call allocates
/// nothing for them.
final class InferenceSlot {
    /// The network instance.
    let network: Network
    /// The normaliser's reusable buffers.
    var scratch = NormalizerScratch()
    /// The normalised images of the call.
    let input = FloatBuffer()

    init(_ model: Model) { network = model.makeNetwork() }
}

/// Inference slots over one model, lent to one caller at a time. A slot's workspaces grow to the
/// largest input it has run and never shrink, so a slot that ran an input larger than
/// `retainedInputs` is freed after the call instead of kept (and freed memory is handed back to
/// the system): after a very large image or batch the engine returns to its usual size.
final class SlotPool: @unchecked Sendable {
    private let model: Model
    private let idle = Mutex<[InferenceSlot]>([])
    /// Largest input (network input elements) after which a slot is kept.
    let retainedInputs: Int

    init(_ model: Model, retainedInputs: Int) { self.model = model; self.retainedInputs = retainedInputs }

    /// Number of slots kept for reuse.
    var idleCount: Int { idle.withLock { $0.count } }

    /// Runs `body` with a slot no other thread uses meanwhile.
    /// - Parameter inputs: elements of the network input `body` runs (what its workspaces grow to).
    func withSlot<T>(inputs: Int, _ body: (InferenceSlot) throws -> T) rethrows -> T {
        var slot: InferenceSlot? = idle.withLock { $0.popLast() } ?? InferenceSlot(model)
        defer {
            if inputs <= retainedInputs {
                idle.withLock { $0.append(slot!) }
            } else {
                slot = nil // the last reference: the workspaces are freed here
                cl_release_free_memory() // and the heap's free memory handed back to the system
            }
        }
        return try body(slot!)
    }
}
