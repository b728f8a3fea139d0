/// A small, fast, seedable generator (SplitMix64) so that training runs repeat exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    public mutating func nextUniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// A standard normal sample (Box-Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = max(nextUniform(), 1e-7), u2 = nextUniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }
}

import Glibc
