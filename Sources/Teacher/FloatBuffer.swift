/// An owned, fixed-size, 64-byte-aligned Float buffer (llm.c style). Read-only after construction
/// when shared between tasks; scratch buffers are private to one forward call.
// Safe: owns its allocation; shared buffers are only read after construction (see above).
final class FloatBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, zeroed: Bool = false) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    func toArray(offset: Int = 0, count n: Int? = nil) -> [Float] {
        let n = n ?? count - offset
        return Array(UnsafeBufferPointer(start: pointer + offset, count: n))
    }
}
