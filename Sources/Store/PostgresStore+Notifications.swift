import Core
import CLibPQ
import Foundation

/// What a `LISTEN` connection hears.
public enum PostgresNotification: Sendable, Equatable {
    /// A `NOTIFY channel, payload` committed by any process (this one included).
    case notification(channel: String, payload: String)
    /// The listening connection was (re)established after a drop: notifications sent meanwhile are
    /// lost, so a listener resynchronises (re-reads generations, polls the job queue once).
    case reconnected
}

extension PostgresStore {
    /// Notifications on `channels`, heard on a dedicated connection served by a thread of its own
    /// (blocking in `poll`, never on Swift's cooperative pool). A dropped connection is reopened
    /// (after 0.2 s, backing off to 5 s) and `.reconnected` is yielded once it listens again. The
    /// stream ends, and the connection closes, when the consumer stops iterating (or the task is
    /// cancelled).
    ///
    /// Channels this store sends: `PostgresStore.jobsChannel` (`swejepa_jobs`, payload: the job
    /// type, on submission and requeue) and `PostgresStore.vectorsChannel` (`swejepa_vectors`,
    /// payload `<space>:<generation>`, on every vector write and delete).
    ///
    /// ```swift
    /// for await event in store.notifications(channels: [PostgresStore.jobsChannel]) {
    ///     if case .notification(_, let type) = event { wakeWorker(for: type) }
    /// }
    /// ```
    public func notifications(channels: [String]) -> AsyncStream<PostgresNotification> {
        let (stream, continuation) = AsyncStream.makeStream(of: PostgresNotification.self, bufferingPolicy: .bufferingNewest(10_000))
        let stop = Arc(Mutex(false))
        continuation.onTermination = { _ in stop.value.withLock { $0 = true } }
        let url = self.url
        let listen = channels.map { "LISTEN \"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: "; ")
        let thread = Thread {
            var delay = 0.2, first = true
            while !stop.value.withLock({ $0 }) {
                do {
                    let db = try PostgresConnection(url: url)
                    try db.execute(listen)
                    if !first { continuation.yield(.reconnected) }
                    first = false
                    delay = 0.2
                    try Self.pump(db, until: { stop.value.withLock { $0 } }) { continuation.yield($0) }
                } catch {
                    first = false
                    Thread.sleep(forTimeInterval: delay)
                    delay = min(5, delay * 2)
                }
            }
            continuation.finish()
        }
        thread.name = "swejepa.store.listen"
        thread.start()
        return stream
    }

    /// Waits on the connection's socket (250 ms at a time, to notice `stop`) and hands every
    /// notification to `yield`; throws when the connection breaks.
    private static func pump(_ db: PostgresConnection, until stop: () -> Bool, _ yield: (PostgresNotification) -> Void) throws {
        let socket = PQsocket(db.handle)
        while !stop() {
            var fd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fd, 1, 250)
            if ready < 0 && errno != EINTR { throw PostgresError(connectionLost: true, message: "poll failed on the LISTEN connection") }
            if ready > 0 {
                if PQconsumeInput(db.handle) != 1 || db.isBroken {
                    throw PostgresError(connectionLost: true, message: "the LISTEN connection to \(db.location) dropped")
                }
                while let n = PQnotifies(db.handle) {
                    let channel = String(cString: n.pointee.relname)
                    let payload = String(cString: n.pointee.extra)
                    PQfreemem(n)
                    yield(.notification(channel: channel, payload: payload))
                }
            }
        }
    }
}

/// A reference to a value, to share a `Mutex` between a thread and a termination handler.
private final class Arc<T: ~Copyable & Sendable>: Sendable {
    let value: T
    init(_ value: consuming T) { self.value = value }
}

extension PostgresStore {
    /// Job wakeups from `swejepa_jobs` notifications (any process's submission or requeue) and from a
    /// reconnection of the listener (notifications may have been missed meanwhile).
    public func jobWakeups() -> AsyncStream<Void>? {
        let events = notifications(channels: [Self.jobsChannel])
        return AsyncStream { continuation in
            let task = Task {
                for await _ in events { continuation.yield() }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
