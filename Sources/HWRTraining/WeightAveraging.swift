import HWRModel

extension Model {
    /// Replaces every parameter by its mean over this model and `others`: checkpoints of one run
    /// late in its schedule, averaged (stochastic weight averaging: Izmailov et al., "Averaging
    /// Weights Leads to Wider Optima and Better Generalization", UAI 2018). The batch-norm running
    /// statistics are averaged too; recalibrate them afterwards (`LineBatchSources.recalibrateBatchNorm`),
    /// since averaged weights change every layer's activations.
    /// - Throws: `ModelError.invalidArchitecture` unless every model has this one's architecture.
    public func averageParameters(with others: [Model]) throws {
        for other in others where other.architecture != architecture || other.parameters.layout.count != parameters.layout.count {
            throw ModelError.invalidArchitecture("weight averaging needs checkpoints of one architecture")
        }
        let p = parameters.buffer.pointer, scale = 1 / Float(others.count + 1)
        for other in others {
            let q = other.parameters.buffer.pointer
            for i in 0..<parameters.layout.count { p[i] += q[i] }
        }
        for i in 0..<parameters.layout.count { p[i] *= scale }
    }
}
