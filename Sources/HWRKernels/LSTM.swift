import Glibc

// One direction of an LSTM (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et al.,
// 2000) over a time-major sequence x[T, N, F]. Gate order i, f, g, o; weights wx[F, 4U], wh[U, 4U],
// bias[4U]. The input projection of all T steps is one matrix product.
// A reverse LSTM walks t = T-1 ... 0; a bidirectional layer runs one of each.

/// The buffers one LSTM direction fills in the forward pass and reads in the backward pass.
public struct LSTMStates {
    /// [T, N, 4U] gate activations (after sigmoid/tanh).
    public var gates: UnsafeMutablePointer<Float>
    /// [T, N, U] cell states.
    public var cells: UnsafeMutablePointer<Float>
    /// [T, N, U] hidden state before each step (zeros at the first step).
    public var previousHidden: UnsafeMutablePointer<Float>
    /// [T, N, U] hidden state after each step.
    public var hidden: UnsafeMutablePointer<Float>

    /// Wraps the four buffers (each sized as documented above).
    public init(gates: UnsafeMutablePointer<Float>, cells: UnsafeMutablePointer<Float>,
                previousHidden: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>) {
        self.gates = gates; self.cells = cells; self.previousHidden = previousHidden; self.hidden = hidden
    }
}

/// LSTM forward for one direction.
/// - Parameters:
///   - out: hidden outputs, step t batch n at `out + (t*B + n) * ldOut`, U floats each
///   - states: filled for the backward pass
///   - x: [T, N, F]
///   - lengths: [N] steps of each sample in a padded batch, or nil when all have T. Steps at or past
///     a sample's length keep a zero state and output zeros, so a reverse LSTM starts at the
///     sample's own last step, exactly as when it runs alone.
public func lstmForward(out: UnsafeMutablePointer<Float>, ldOut: Int, states: LSTMStates,
                        x: UnsafePointer<Float>, wx: UnsafePointer<Float>, wh: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, steps: Int, batch: Int, inputs: Int, units: Int,
                        reverse: Bool, lengths: UnsafePointer<Int32>? = nil) {
    let g4 = 4 * units
    lstmForward(out: out, ldOut: ldOut, states: states, steps: steps, batch: batch, units: units, reverse: reverse, lengths: lengths,
                projectInputs: { gates in
                    for r in 0..<(steps * batch) { (gates + r * g4).update(from: bias, count: g4) }
                    gemm(.noTranspose, .noTranspose, m: steps * batch, n: g4, k: inputs, a: x, b: wx, beta: 1, c: gates)
                },
                addRecurrent: { hp, gates in
                    gemm(.noTranspose, .noTranspose, m: batch, n: g4, k: units, a: hp, b: wh, beta: 1, c: gates)
                })
}

/// LSTM forward for one direction with the two matrix products given by the caller (the float
/// ones above, or int8 ones): `projectInputs(gates)` fills gates [T, N, 4U] with x·wx + bias for
/// every step; `addRecurrent(h, gates)` adds h[N, U]·wh to one step's gates [N, 4U].
public func lstmForward(out: UnsafeMutablePointer<Float>, ldOut: Int, states: LSTMStates, steps: Int, batch: Int,
                        units: Int, reverse: Bool, lengths: UnsafePointer<Int32>?,
                        projectInputs: (UnsafeMutablePointer<Float>) -> Void,
                        addRecurrent: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
    let g4 = 4 * units, bh = batch * units
    projectInputs(states.gates)
    var previous = -1
    for s in 0..<steps {
        let t = reverse ? steps - 1 - s : s
        let gates = states.gates + t * batch * g4
        let hp = states.previousHidden + t * bh
        if previous < 0 {
            hp.update(repeating: 0, count: bh)
        } else {
            hp.update(from: states.hidden + previous * bh, count: bh)
            addRecurrent(hp, gates)
        }
        let cells = states.cells + t * bh, hidden = states.hidden + t * bh
        for n in 0..<batch {
            let g = gates + n * g4
            let c = cells + n * units, h = hidden + n * units
            let o = out + (t * batch + n) * ldOut
            // Gate activations: i, f by sigmoid; g by tanh; o by sigmoid.
            sigmoidInPlace(g, n: 2 * units)
            tanhVector(g + 2 * units, g + 2 * units, n: units)
            sigmoidInPlace(g + 3 * units, n: units)
            if previous < 0 {
                for j in 0..<units { c[j] = g[j] * g[2 * units + j] }
            } else {
                let cp = states.cells + previous * bh + n * units
                for j in 0..<units { c[j] = g[units + j] * cp[j] + g[j] * g[2 * units + j] }
            }
            tanhVector(h, c, n: units)
            for j in 0..<units { h[j] *= g[3 * units + j]; o[j] = h[j] }
            if let lengths, t >= Int(lengths[n]) { // padding: zero state and output
                c.update(repeating: 0, count: units); h.update(repeating: 0, count: units); o.update(repeating: 0, count: units)
            }
        }
        previous = t
    }
}

/// LSTM backward for one direction (backpropagation through time); adds into every gradient.
/// - Parameters:
///   - dx: [T, N, F], added to (both directions of a BiLSTM add to it); nil to skip
///   - dWx: [F, 4U], dWh: [U, 4U], dBias: [4U], added to
///   - dGates: scratch [T, N, 4U]
///   - dOut: gradient of the hidden outputs, laid out like `out` in the forward pass
///   - lengths: as in the forward pass; padded steps pass no gradient
public func lstmBackward(dx: UnsafeMutablePointer<Float>?, dWx: UnsafeMutablePointer<Float>,
                         dWh: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
                         dGates: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, ldOut: Int,
                         states: LSTMStates, x: UnsafePointer<Float>, wx: UnsafePointer<Float>,
                         wh: UnsafePointer<Float>, steps: Int, batch: Int, inputs: Int, units: Int,
                         reverse: Bool, lengths: UnsafePointer<Int32>? = nil) {
    let g4 = 4 * units, bh = batch * units
    var dhNext = [Float](repeating: 0, count: bh)
    var dcNext = [Float](repeating: 0, count: bh)
    for s in stride(from: steps - 1, through: 0, by: -1) {
        let t = reverse ? steps - 1 - s : s
        let previous = s == 0 ? -1 : (reverse ? t + 1 : t - 1)
        let gates = states.gates + t * batch * g4
        let dg = dGates + t * batch * g4
        let cells = states.cells + t * bh
        for n in 0..<batch {
            let g = gates + n * g4, d = dg + n * g4
            if let lengths, t >= Int(lengths[n]) {
                d.update(repeating: 0, count: g4)
                for j in 0..<units { dcNext[n * units + j] = 0 }
                continue
            }
            let c = cells + n * units
            let cp: UnsafeMutablePointer<Float>? = previous < 0 ? nil : states.cells + previous * bh + n * units
            let dO = dOut + (t * batch + n) * ldOut
            for j in 0..<units {
                let k = n * units + j
                let dh = dO[j] + dhNext[k]
                let ig = g[j], fg = g[units + j], gg = g[2 * units + j], og = g[3 * units + j]
                // tanh(c) from the forward pass: h = o * tanh(c).
                let tc = og > 1e-6 ? states.hidden[t * bh + k] / og : tanhf(c[j])
                let dc = dcNext[k] + dh * og * (1 - tc * tc)
                dcNext[k] = dc * fg
                d[j] = dc * gg * ig * (1 - ig)
                d[units + j] = dc * (cp?[j] ?? 0) * fg * (1 - fg)
                d[2 * units + j] = dc * ig * (1 - gg * gg)
                d[3 * units + j] = dh * tc * og * (1 - og)
            }
        }
        if s > 0 {
            dhNext.withUnsafeMutableBufferPointer { dh in
                gemm(.noTranspose, .transpose, m: batch, n: units, k: g4, a: dg, b: wh, beta: 0, c: dh.baseAddress!)
            }
        }
    }
    let rows = steps * batch
    gemm(.transpose, .noTranspose, m: units, n: g4, k: rows, a: states.previousHidden, b: dGates, beta: 1, c: dWh)
    gemm(.transpose, .noTranspose, m: inputs, n: g4, k: rows, a: x, b: dGates, beta: 1, c: dWx)
    for r in 0..<rows {
        let d = dGates + r * g4
        for j in 0..<g4 { dBias[j] += d[j] }
    }
    if let dx { gemm(.noTranspose, .transpose, m: rows, n: inputs, k: g4, a: dGates, b: wx, beta: 1, c: dx) }
}
