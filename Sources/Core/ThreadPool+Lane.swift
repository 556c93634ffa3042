extension ThreadPool {
    /// A serial lane on a shared pool: jobs submitted to one lane run one at a time, in submission
    /// order, on the pool's threads; different lanes (and the pool's other jobs) run side by side.
    /// An idle lane holds no thread, so one lane per key (per index space, say) costs nothing until
    /// it is used. While a lane has work, one pool thread drains it.
    ///
    /// ```swift
    /// let lane = ThreadPool.Lane(on: pool)
    /// lane.submit { write(1) }
    /// try await lane.run { write(2) }   // after write(1), never beside it
    /// ```
    public final class Lane: Sendable {
        public let pool: ThreadPool
        private struct State {
            var pending: [Job] = []
            /// True while a pool job is draining `pending` (at most one at a time: that is the lane).
            var draining = false
        }
        private let state = Mutex(State())

        public init(on pool: ThreadPool) { self.pool = pool }

        /// Queues `work` behind everything submitted to this lane before it.
        public func submit(_ work: @escaping Job) {
            let startDrain = state.withLock { s in
                s.pending.append(work)
                if s.draining { return false }
                s.draining = true
                return true
            }
            if startDrain { pool.submit { self.drain() } }
        }

        /// Runs `body` on the lane (after every job submitted before it) and returns what it returns.
        public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
            try await withCheckedThrowingContinuation { cont in
                submit { cont.resume(with: Result { try body() }) }
            }
        }

        /// Runs pending jobs in order until none is left, then lets the next `submit` start a drain.
        private func drain() {
            while true {
                let batch: [Job] = state.withLock { s in
                    if s.pending.isEmpty { s.draining = false }
                    defer { s.pending = [] }
                    return s.pending
                }
                if batch.isEmpty { return }
                for job in batch { job() }
            }
        }
    }
}
