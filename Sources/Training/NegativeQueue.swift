/// A MoCo-style memory of the last `capacity` target embeddings: extra InfoNCE negatives beyond
/// the batch (the seed saw ~512 negatives per step across GPUs; a batch of 64 sees 63).
///
/// A preallocated FIFO ring buffer `[capacity, dim]`: `enqueue` copies one detached row in (no
/// gradient ever flows into an entry), overwriting the oldest once full, and never allocates.
/// Each entry carries the function index and duplicate group it came from, so the loss masks a
/// row's own function and its duplicates (`negatives(rowGroups:)`). Entries fill slots 0, 1, …,
/// so the first `count` slots are always the live ones; their order does not matter to the loss.
///
/// ```swift
/// let q = NegativeQueue<Float>(capacity: 1024, dim: 384)
/// let loss = try model.forward(batch, training: true, negatives: q)   // batch.groups set
/// model.backward()                                                    // then the optimizer step
/// for i in batchFunctions { q.enqueue(row: target(i), function: i, group: groups[i]) }
/// ```
public final class NegativeQueue<T: TrainScalar> {
    public let capacity: Int
    public let dim: Int
    /// `[capacity, dim]`, live rows 0..<count.
    let storage: UnsafeMutablePointer<T>
    /// Duplicate group per slot (a stable pointer for the loss op).
    let groupStorage: UnsafeMutablePointer<Int>
    /// Function index per slot, −1 while empty.
    public private(set) var functions: [Int]
    /// Live entries (≤ capacity).
    public private(set) var count = 0
    /// The slot the next entry goes to (the oldest one once full).
    public private(set) var head = 0
    /// Bumped by every change: a forward pass checks that its backward sees the same entries.
    public private(set) var version = 0

    public init(capacity: Int, dim: Int) {
        precondition(capacity >= 1 && dim >= 1, "a negative queue needs a positive capacity and dimension")
        self.capacity = capacity
        self.dim = dim
        storage = .allocate(capacity: capacity * dim)
        storage.initialize(repeating: 0, count: capacity * dim)
        groupStorage = .allocate(capacity: capacity)
        groupStorage.initialize(repeating: -1, count: capacity)
        functions = [Int](repeating: -1, count: capacity)
    }

    deinit {
        storage.deallocate()
        groupStorage.deallocate()
    }

    /// Copies `row` (`dim` values) in as the newest entry, dropping the oldest when full.
    public func enqueue(row: UnsafePointer<T>, function: Int, group: Int) {
        (storage + head * dim).update(from: row, count: dim)
        groupStorage[head] = group
        functions[head] = function
        head = (head + 1) % capacity
        count = min(count + 1, capacity)
        version &+= 1
    }

    /// Empties the queue (keeps the buffer).
    public func removeAll() {
        count = 0
        head = 0
        for s in 0..<capacity { functions[s] = -1; groupStorage[s] = -1 }
        version &+= 1
    }

    /// Entry `slot` (< count): its values, function and duplicate group.
    public func entry(_ slot: Int) -> (values: [T], function: Int, group: Int) {
        precondition(slot < count, "slot \(slot) is not live")
        return (Array(UnsafeBufferPointer(start: storage + slot * dim, count: dim)), functions[slot], groupStorage[slot])
    }

    /// The live entries as the loss op reads them, for a batch whose rows have these groups
    /// (valid until the next `enqueue` / `removeAll`).
    public func negatives(rowGroups: UnsafePointer<Int>) -> QueuedNegatives<T> {
        QueuedNegatives(entries: storage, groups: groupStorage, count: count, rowGroups: rowGroups)
    }

    /// What a checkpoint keeps: the function of each live slot and the head. The values are the
    /// functions' targets, so `restore` rebuilds the queue exactly from the same data.
    public var state: NegativeQueueState { NegativeQueueState(functions: Array(functions[0..<count]), head: head) }

    /// Rebuilds the entries of `state` from `targets [functionCount, dim]` (row per function) and
    /// the functions' duplicate groups.
    public func restore(_ state: NegativeQueueState, targets: UnsafePointer<T>, groups: [Int]) throws {
        let n = state.functions.count
        guard n <= capacity, (n == capacity ? (0..<capacity).contains(state.head) : state.head == n),
              state.functions.allSatisfy({ groups.indices.contains($0) }) else {
            throw TrainingError.invalidCheckpoint("negative queue state (\(n) entries, head \(state.head)) does not fit a queue of \(capacity) over \(groups.count) functions")
        }
        removeAll()
        for (slot, f) in state.functions.enumerated() {
            (storage + slot * dim).update(from: targets + f * dim, count: dim)
            groupStorage[slot] = groups[f]
            functions[slot] = f
        }
        count = n
        head = state.head
        version &+= 1
    }
}

/// The checkpointed part of a `NegativeQueue`: the function index of each live slot (slot order)
/// and the next slot to write.
///
/// ```swift
/// manifest.negativeQueue = trainer.negativeQueue?.state   // {"functions": [12, 7, …], "head": 3}
/// ```
public struct NegativeQueueState: Codable, Sendable, Equatable {
    public var functions: [Int]
    public var head: Int

    public init(functions: [Int], head: Int) {
        self.functions = functions
        self.head = head
    }
}
