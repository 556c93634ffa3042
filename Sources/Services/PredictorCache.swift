import Core
import Foundation
import Training

/// Loaded students by checkpoint directory; an entry is reloaded when the directory's `config.json`
/// changes (a checkpoint still being trained). A model's buffers are not shareable, so each entry
/// predicts for one request at a time (its predictor sits behind a `Mutex`).
///
/// ```swift
/// let entry = try PredictorCache.shared.entry(checkpointDirectory)
/// let out = try entry.predict(tokens: rows, offsets: [0, 3, 5])   // two inputs of 3 and 2 rows
/// ```
final class PredictorCache: Sendable {
    static let shared = PredictorCache()
    static let capacity = 8

    final class Entry: Sendable {
        let stamp: String
        let inputDim: Int
        let outputDim: Int
        private let predictor: Mutex<Predictor>

        init(predictor: sending Predictor, stamp: String) {
            self.stamp = stamp
            inputDim = predictor.inputDim
            outputDim = predictor.outputDim
            self.predictor = Mutex(predictor)
        }

        func predict(tokens: [Float], offsets: [Int]) throws -> [Float] {
            try predictor.withLock { try $0.predict(tokens: tokens, offsets: offsets) }
        }
    }

    private struct Slot {
        var entry: Entry
        var used: Date
    }

    private let slots = Mutex<[String: Slot]>([:])

    func entry(_ dir: URL) throws -> Entry {
        let manifest = dir.appendingPathComponent("config.json")
        let attrs = try? FileManager.default.attributesOfItem(atPath: manifest.path)
        let stamp = "\((attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0):\(attrs?[.size] as? Int ?? 0)"
        let cached: Entry? = slots.withLock { slots in
            guard let slot = slots[dir.path], slot.entry.stamp == stamp else { return nil }
            slots[dir.path]?.used = Date()
            return slot.entry
        }
        if let cached { return cached }
        let e = Entry(predictor: try Predictor(checkpoint: dir), stamp: stamp)
        slots.withLock { slots in
            slots[dir.path] = Slot(entry: e, used: Date())
            while slots.count > Self.capacity, let oldest = slots.min(by: { $0.value.used < $1.value.used })?.key {
                slots.removeValue(forKey: oldest)
            }
        }
        return e
    }
}
