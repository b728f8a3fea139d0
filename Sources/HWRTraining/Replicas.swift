import Foundation
import HWRKernels
import HWRModel

/// Network replicas over one model for data-parallel training: each batch is split into one shard
/// per replica, the shards run concurrently with single-threaded matrix products, and their
/// gradients are summed into the first replica's buffer. Only the first replica moves the batch-norm
/// running statistics, so no two threads write them.
final class Replicas {
    /// One network per shard.
    let networks: [Network]
    private let gradients: [FloatBuffer]
    private let parameterCount: Int

    /// Makes `min(threads, batchSize)` replicas (at least one) and sets matrix products to one thread.
    init(model: Model, threads: Int, batchSize: Int) {
        let count = max(1, min(threads, batchSize))
        setKernelThreads(1)
        networks = (0..<count).map { i in
            let network = model.makeNetwork()
            network.updatesRunningStatistics = i == 0
            return network
        }
        parameterCount = model.parameters.layout.count
        gradients = (0..<count).map { _ in FloatBuffer(count: model.parameters.layout.count) }
    }

    /// Restarts each replica's dropout sequence for an epoch (so that resumed runs repeat).
    func reseed(seed: UInt64, epoch: Int) {
        for (i, network) in networks.enumerated() { network.reseed(seed &+ UInt64(epoch) &+ UInt64(i) &* 1_000_033) }
    }

    /// The rows of a batch of `size` that shard `shard` takes.
    func rows(ofShard shard: Int, batch size: Int) -> Range<Int> {
        (shard * size / networks.count)..<((shard + 1) * size / networks.count)
    }

    /// Runs `shard` for every replica concurrently, each with its own zeroed gradient buffer to
    /// backpropagate into, and sums the gradients.
    /// - Parameter shard: given the shard index, its replica and its gradient buffer; returns a loss
    ///   sum and a count to add up over the shards
    /// - Returns: the summed gradients (valid until the next step) and the summed loss and count.
    func step(_ shard: (Int, Network, UnsafeMutablePointer<Float>) -> (loss: Double, count: Int))
        -> (gradients: UnsafeMutablePointer<Float>, loss: Double, count: Int) {
        var results = [(loss: Double, count: Int)](repeating: (0, 0), count: networks.count)
        results.withUnsafeMutableBufferPointer { results in
            DispatchQueue.concurrentPerform(iterations: networks.count) { i in
                gradients[i].zero(parameterCount)
                results[i] = shard(i, networks[i], gradients[i].pointer)
            }
        }
        let total = gradients[0].pointer
        for replica in gradients.dropFirst() {
            let g = replica.pointer
            for e in 0..<parameterCount { total[e] += g[e] }
        }
        return (total, results.reduce(0) { $0 + $1.loss }, results.reduce(0) { $0 + $1.count })
    }
}
