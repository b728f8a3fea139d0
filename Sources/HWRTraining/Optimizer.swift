import Foundation
import HWRModel

/// Adam over the trainable tensors of a flat parameter buffer, with global-norm gradient clipping.
public struct Adam {
    /// First and second moments, same layout as the parameters.
    public var m: [Float], v: [Float]
    /// Updates taken so far.
    public var step = 0
    /// Exponential decay rates and epsilon.
    public let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7
    private let ranges: [Range<Int>]

    /// Creates zeroed moments for a layout.
    public init(layout: ParameterLayout) {
        m = Array(repeating: 0, count: layout.count); v = m
        ranges = layout.tensors.filter(\.trainable).map { $0.offset..<($0.offset + $0.count) }
    }

    /// Applies one update.
    /// - Parameters:
    ///   - parameters, gradients: the flat buffers
    ///   - clipNorm: gradients are rescaled so their global L2 norm is at most this
    /// - Returns: the gradient norm before clipping.
    @discardableResult
    public mutating func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                                learningRate: Float, clipNorm: Float) -> Float {
        var sq: Float = 0
        for r in ranges { for i in r { sq += gradients[i] * gradients[i] } }
        let norm = sq.squareRoot()
        let scale = norm > clipNorm ? clipNorm / norm : 1
        step += 1
        let c1 = 1 - powf(beta1, Float(step)), c2 = 1 - powf(beta2, Float(step))
        let lr = learningRate * c2.squareRoot() / c1
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                for r in ranges {
                    for i in r {
                        let g = gradients[i] * scale
                        m[i] = beta1 * m[i] + (1 - beta1) * g
                        v[i] = beta2 * v[i] + (1 - beta2) * g * g
                        parameters[i] -= lr * m[i] / (v[i].squareRoot() + epsilon)
                    }
                }
            }
        }
        return norm
    }
}

/// Learning rate: linear warm-up, then cosine decay to `final * peak` at `totalSteps`.
public func learningRate(step: Int, peak: Float, warmupSteps: Int, totalSteps: Int, final: Float) -> Float {
    if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
    let t = min(1, Float(step - warmupSteps) / Float(max(1, totalSteps - warmupSteps)))
    return peak * (final + (1 - final) * 0.5 * (1 + cosf(.pi * t)))
}
