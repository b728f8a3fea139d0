/// A growable, manually managed buffer of numbers. Layers own one per output and gradient and grow
/// it to the batch in use, so a warm network allocates nothing per call.
public final class Buffer<Element: Numeric> {
    /// The storage; valid for `capacity` elements.
    public private(set) var pointer: UnsafeMutablePointer<Element>
    /// Number of elements allocated.
    public private(set) var capacity: Int

    /// Creates a zero-filled buffer of `count` elements.
    public init(count: Int = 0) {
        capacity = max(count, 1)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements (contents are not preserved when it grows; new storage is
    /// zeroed) and returns the pointer.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
        }
        return pointer
    }

    /// Sets the first `count` elements to zero.
    public func zero(_ count: Int) {
        reserve(count).update(repeating: 0, count: count)
    }
}

/// Float activations, gradients and parameters.
public typealias FloatBuffer = Buffer<Float>
/// Int32 indices (pooling positions).
public typealias IndexBuffer = Buffer<Int32>
