import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The scalar types the training ops run on: `Float` for training, `Double` for the
/// finite-difference reference (the same code, instantiated at Float64). Matrix products come
/// from `BLASScalar.gemm` (Tensor), so the Double instantiation checks the same BLAS path.
///
/// ```swift
/// let y = Float.errorFunction(0.5)   // erff
/// ```
public protocol TrainScalar: BLASScalar, Sendable, Codable where RawSignificand: FixedWidthInteger {
    static func exponential(_ x: Self) -> Self
    static func logarithm(_ x: Self) -> Self
    static func errorFunction(_ x: Self) -> Self
}

extension Float: TrainScalar {
    @inline(__always) public static func exponential(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func logarithm(_ x: Float) -> Float { logf(x) }
    @inline(__always) public static func errorFunction(_ x: Float) -> Float { erff(x) }
}

extension Double: TrainScalar {
    @inline(__always) public static func exponential(_ x: Double) -> Double { exp(x) }
    @inline(__always) public static func logarithm(_ x: Double) -> Double { log(x) }
    @inline(__always) public static func errorFunction(_ x: Double) -> Double { erf(x) }
}
