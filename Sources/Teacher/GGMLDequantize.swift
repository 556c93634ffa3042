import Core
import Foundation

/// Dequantisation of ggml tensor data to Float32: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
/// Q4_K, Q5_K and Q6_K, block layouts as in ggml's `ggml-common.h`. Results are bit-identical to
/// the `gguf` Python package's `gguf.quants.dequantize` (the same float32 operations in the same
/// order, never fused into FMAs). Large tensors are converted in parallel chunks of whole blocks.
///
/// ```swift
/// let floats = try raw.withUnsafeBytes { try GGMLDequantize.floats($0, type: .q4_K, count: 512) }
/// ```
public enum GGMLDequantize {
    /// Elements below which a tensor is converted on the calling thread.
    static let parallelThreshold = 1 << 16

    /// `count` elements of `type` read from `raw` (which must hold exactly `count / blockSize`
    /// blocks), as Float32 in storage order.
    public static func floats(_ raw: UnsafeRawBufferPointer, type: GGMLType, count: Int, name: String = "tensor") throws -> [Float] {
        guard type.isDequantizable else { throw TeacherError.unsupportedDType(tensor: name, dtype: type.description) }
        let (bytes, overflow) = (count / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
        guard count >= 0, count % type.blockSize == 0, !overflow, raw.count == bytes else {
            throw TeacherError.invalidArgument("\(name): \(raw.count) bytes do not hold \(count) \(type) elements")
        }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            if let src = raw.baseAddress, let dst = out.baseAddress { convert(src, type: type, count: count, into: dst) }
            initialized = count
        }
    }

    /// Converts whole blocks, in parallel chunks when there are many elements. The caller has
    /// checked that `src` holds `count / blockSize` blocks and `dst` has room for `count` floats.
    static func convert(_ src: UnsafeRawPointer, type: GGMLType, count: Int, into dst: UnsafeMutablePointer<Float>) {
        let blocks = count / type.blockSize
        let chunks = count < parallelThreshold ? 1 : min(4 * ProcessInfo.processInfo.activeProcessorCount,
                                                         max(1, count / parallelThreshold))
        if chunks <= 1 { return convertBlocks(src, type: type, blocks: blocks, into: dst) }
        let per = (blocks + chunks - 1) / chunks
        let box = UncheckedBox((src, dst))
        ParallelFor.perform(chunks) { c in
            let first = c * per
            let n = min(per, blocks - first)
            guard n > 0 else { return }
            convertBlocks(box.value.0 + first * type.typeSize, type: type, blocks: n,
                          into: box.value.1 + first * type.blockSize)
        }
    }

    static func convertBlocks(_ src: UnsafeRawPointer, type: GGMLType, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32: memcpy(dst, src, blocks * 4)
        case .f16: for i in 0..<blocks { dst[i] = half(src, 2 * i) }
        case .bf16: for i in 0..<blocks { dst[i] = Float(bitPattern: UInt32(u16(src, 2 * i)) << 16) }
        case .q4_0: for b in 0..<blocks { q4_0(src + 18 * b, dst + 32 * b) }
        case .q4_1: for b in 0..<blocks { q4_1(src + 20 * b, dst + 32 * b) }
        case .q5_0: for b in 0..<blocks { q5_0(src + 22 * b, dst + 32 * b) }
        case .q5_1: for b in 0..<blocks { q5_1(src + 24 * b, dst + 32 * b) }
        case .q8_0: for b in 0..<blocks { q8_0(src + 34 * b, dst + 32 * b) }
        case .q4_K: for b in 0..<blocks { q4_K(src + 144 * b, dst + 256 * b) }
        case .q5_K: for b in 0..<blocks { q5_K(src + 176 * b, dst + 256 * b) }
        case .q6_K: for b in 0..<blocks { q6_K(src + 210 * b, dst + 256 * b) }
        default: break  // not dequantizable: refused by the callers
        }
    }

    @inline(__always) static func u16(_ p: UnsafeRawPointer, _ at: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }
    @inline(__always) static func half(_ p: UnsafeRawPointer, _ at: Int) -> Float { halfToFloat(u16(p, at)) }
    @inline(__always) static func byte(_ p: UnsafeRawPointer, _ at: Int) -> UInt8 { p.load(fromByteOffset: at, as: UInt8.self) }

    // MARK: 32-element blocks: an fp16 scale (and minimum), 4- or 5-bit or 8-bit quants.

    /// Q4_0: d, 16 bytes of nibbles (low nibbles are elements 0–15, high ones 16–31); x = d·(q − 8).
    @inline(__always) static func q4_0(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p, 0)
        for j in 0..<16 {
            let b = byte(p, 2 + j)
            out[j] = d * Float(Int32(b & 0x0F) - 8)
            out[j + 16] = d * Float(Int32(b >> 4) - 8)
        }
    }

    /// Q4_1: d, m, 16 bytes of nibbles; x = d·q + m.
    @inline(__always) static func q4_1(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p, 0), m = half(p, 2)
        for j in 0..<16 {
            let b = byte(p, 4 + j)
            out[j] = d * Float(b & 0x0F) + m
            out[j + 16] = d * Float(b >> 4) + m
        }
    }

    /// Q5_0: d, 32 high bits (bit j of a little-endian u32 is element j's fifth bit), nibbles; x = d·(q − 16).
    @inline(__always) static func q5_0(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p, 0)
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let b = UInt32(byte(p, 6 + j))
            let lo = (b & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
            let hi = (b >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            out[j] = d * Float(Int32(lo) - 16)
            out[j + 16] = d * Float(Int32(hi) - 16)
        }
    }

    /// Q5_1: d, m, high bits, nibbles; x = d·q + m.
    @inline(__always) static func q5_1(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p, 0), m = half(p, 2)
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let b = UInt32(byte(p, 8 + j))
            let lo = (b & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
            let hi = (b >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            out[j] = d * Float(lo) + m
            out[j + 16] = d * Float(hi) + m
        }
    }

    /// Q8_0: d, 32 signed bytes; x = q·d.
    @inline(__always) static func q8_0(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p, 0)
        for j in 0..<32 { out[j] = Float(Int8(bitPattern: byte(p, 2 + j))) * d }
    }

    // MARK: 256-element super-blocks (k-quants).

    /// The 6-bit scale and minimum of sub-block `j` (0–7) from the 12 packed bytes at `s` (Q4_K, Q5_K).
    @inline(__always) static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (UInt8, UInt8) {
        if j < 4 { return (byte(s, j) & 63, byte(s, j + 4) & 63) }
        let sc = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 6) << 4)
        let mn = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 6) << 4)
        return (sc, mn)
    }

    /// Q4_K: d, dmin, 12 bytes of scales/mins, 128 bytes of nibbles. Sub-block s (32 elements) is
    /// nibble half s % 2 of bytes 32·(s/2)…; x = (d·sc)·q − dmin·m.
    @inline(__always) static func q4_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p, 0), dmin = half(p, 2)
        let qs = p + 16
        for s in 0..<8 {
            let (sc, mn) = scaleMin(p + 4, s)
            let dl = d * Float(sc), ml = dmin * Float(mn)
            let base = 32 * (s / 2), shift = UInt8(4 * (s % 2))
            let o = out + 32 * s
            for l in 0..<32 { o[l] = dl * Float((byte(qs, base + l) >> shift) & 0x0F) - ml }
        }
    }

    /// Q5_K: as Q4_K with 32 bytes of fifth bits (bit s of byte l belongs to element l of sub-block s).
    @inline(__always) static func q5_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = half(p, 0), dmin = half(p, 2)
        let qh = p + 16, qs = p + 48
        for s in 0..<8 {
            let (sc, mn) = scaleMin(p + 4, s)
            let dl = d * Float(sc), ml = dmin * Float(mn)
            let base = 32 * (s / 2), shift = UInt8(4 * (s % 2)), bit = UInt8(s)
            let o = out + 32 * s
            for l in 0..<32 {
                let q = ((byte(qs, base + l) >> shift) & 0x0F) | (((byte(qh, l) >> bit) & 1) << 4)
                o[l] = dl * Float(q) - ml
            }
        }
    }

    /// Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 signed scales, d (last).
    /// Element i of half h (128 each): low nibble (4·(i/64)) of ql[64h + i%64], high bits
    /// (2·(i/32)) of qh[32h + i%32]; x = (d·scale[e/16])·(q − 32).
    @inline(__always) static func q6_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let ql = p, qh = p + 128, scales = p + 192
        let d = half(p, 208)
        for g in 0..<16 {  // 16 groups of 16 elements share a scale
            let dl = d * Float(Int8(bitPattern: byte(scales, g)))
            for k in 0..<16 {
                let e = 16 * g + k
                let h = e >> 7, i = e & 127
                let lo = (byte(ql, 64 * h + (i & 63)) >> UInt8(4 * (i >> 6))) & 0x0F
                let hi = (byte(qh, 32 * h + (i & 31)) >> UInt8(2 * (i >> 5))) & 3
                out[e] = dl * Float(Int32(lo | hi << 4) - 32)
            }
        }
    }
}
