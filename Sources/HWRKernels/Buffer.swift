/// A growable, manually managed float buffer. Layers own one per output and gradient and grow it
/// to the batch in use, so a warm network allocates nothing per call.
public final class FloatBuffer {
    /// The storage; valid for `capacity` floats.
    public private(set) var pointer: UnsafeMutablePointer<Float>
    /// Number of floats allocated.
    public private(set) var capacity: Int

    /// Creates a zero-filled buffer of `count` floats.
    public init(count: Int = 0) {
        capacity = max(count, 1)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats (contents are not preserved when it grows) and returns the pointer.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
        }
        return pointer
    }

    /// Sets the first `count` floats to zero.
    public func zero(_ count: Int) {
        reserve(count).update(repeating: 0, count: count)
    }
}

/// A growable Int32 buffer (pooling indices, labels).
public final class IndexBuffer {
    /// The storage; valid for `capacity` elements.
    public private(set) var pointer: UnsafeMutablePointer<Int32>
    /// Number of elements allocated.
    public private(set) var capacity: Int

    /// Creates an empty buffer.
    public init() {
        capacity = 1
        pointer = .allocate(capacity: 1)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements and returns the pointer.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Int32> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
        }
        return pointer
    }
}
