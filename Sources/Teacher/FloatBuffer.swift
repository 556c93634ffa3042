/// An owned, fixed-size, 64-byte-aligned Float buffer (llm.c style), or a read-only view of floats
/// inside a memory-mapped file (`mapped(_:offset:count:)`, the weight cache). Read-only after
/// construction when shared between tasks; scratch buffers are private to one forward call.
///
/// ```swift
/// let w = FloatBuffer([1, 2, 3])                        // owned copy
/// let v = FloatBuffer.mapped(file, offset: 64, count: 3) // view; keeps `file` mapped while alive
/// ```
// Safe: owns its allocation (or holds the read-only mapping it points into); shared buffers are
// only read after construction (see above).
final class FloatBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    /// The mapping a view points into (nil: `pointer` is this buffer's own allocation).
    private let mapping: MappedFile?

    init(count: Int, zeroed: Bool = false) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
        mapping = nil
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    private init(mapping: MappedFile, pointer: UnsafeMutablePointer<Float>, count: Int) {
        self.mapping = mapping
        self.pointer = pointer
        self.count = count
    }

    /// `count` floats at byte `offset` of a mapping (4-byte aligned, inside the file: the caller
    /// checked both). Writing through `pointer` would fault: the mapping is PROT_READ.
    static func mapped(_ file: MappedFile, offset: Int, count: Int) -> FloatBuffer {
        precondition(offset % 4 == 0 && offset >= 0 && count >= 0 && offset + 4 * count <= file.count)
        guard count > 0, let base = file.base else { return FloatBuffer(count: 0) }
        let p = UnsafeMutableRawPointer(mutating: base + offset)
        return FloatBuffer(mapping: file, pointer: p.assumingMemoryBound(to: Float.self), count: count)
    }

    deinit { if mapping == nil { pointer.deallocate() } }

    /// The floats as raw bytes (for writing them to a file).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: 4 * count) }

    func toArray(offset: Int = 0, count n: Int? = nil) -> [Float] {
        let n = n ?? count - offset
        return Array(UnsafeBufferPointer(start: pointer + offset, count: n))
    }
}
