import Core
import FlyingFox
import FlyingSocks
import Foundation
import Jobs
import Services
import Store

/// What route handlers share: the store, the configuration, metrics and the log.
public struct ServiceContext: Sendable {
    public var store: any StoreBackend
    public var config: ServerConfig
    public var metrics: Metrics
    public var logger: QuietLogger
    public var dataDirectory: URL
    public var version: String
    /// The job runner whose types `/v1/jobs` accepts (nil: no job routes).
    public var jobs: JobRunner?
    /// FAISS indexes per space (nil: no search routes).
    public var search: SearchService?
    /// Every vector write and delete of the routes goes through it (so indexes stay current).
    public var writer: VectorWriter { VectorWriter(store: store, search: search) }

    public init(store: any StoreBackend, config: ServerConfig, dataDirectory: URL, jobs: JobRunner? = nil,
                search: SearchService? = nil, version: String = swejepaVersion) {
        self.store = store
        self.jobs = jobs
        self.search = search
        self.config = config
        self.metrics = Metrics()
        self.logger = QuietLogger(level: config.logLevel)
        self.dataDirectory = dataDirectory
        self.version = version
    }
}

public let swejepaVersion = "0.1.0"

/// The HTTP service: our `HTTPListener` (connection cap, bounded request heads, per-connection
/// deadlines) over FlyingFox's request and response types, a quiet logger, a body limit,
/// bearer-token auth for writes, JSON errors and Prometheus metrics.
///
/// ```swift
/// let server = APIServer(context: ctx)
/// server.add(routes: APIServer.coreRoutes(ctx))
/// try await server.run()
/// ```
public final class APIServer: Sendable {
    public let context: ServiceContext
    let http: HTTPListener
    private let table: RouterBox
    let inFlight = InFlight()

    public init(context: ServiceContext) throws {
        self.context = context
        let cfg = context.config
        let address: any SocketAddress & Sendable
        let family: Int32
        if cfg.host.contains(":") {
            address = try sockaddr_in6.inet6(ip6: cfg.host, port: cfg.port)
            family = AF_INET6
        } else {
            address = try sockaddr_in.inet(ip4: cfg.host == "localhost" ? "127.0.0.1" : cfg.host, port: cfg.port)
            family = AF_INET
        }
        let budget = FileDescriptorLimit.socketBudget()
        let options = HTTPListener.Options(
            address: address, family: family, limits: ConnectionLimits(headTimeout: cfg.readTimeout),
            maxConnections: cfg.maxConnections > 0 ? cfg.maxConnections
                : min(FileDescriptorLimit.defaultMaxConnections(), budget - min(64, budget / 8)),  // room left to answer 503s
            socketBudget: budget,
            requestTimeout: cfg.requestTimeout, maxBodyBytes: cfg.maxBodyBytes, logger: context.logger)
        table = RouterBox()
        let dispatcher = Dispatcher(context: context, table: table, inFlight: inFlight)
        http = HTTPListener(options: options) { await dispatcher.respond(to: $0) }
    }

    /// Adds routes (before `run`).
    public func add(routes: [Route]) { table.add(routes) }

    /// Every registered (method, template), for the OpenAPI check.
    public var routes: [(method: String, template: String)] { table.router.routes.map { ($0.method, $0.template) } }

    /// Serves until `stop()`; throws if the listener fails (it does not return on its own).
    public func run() async throws { try await http.run() }

    /// Connections open now, and the most served at once (past it: 503 and close).
    public var openConnections: Int { http.openConnections }
    public var maxConnections: Int { http.options.maxConnections }

    public func waitUntilListening(timeout: Double = 60) async throws { try await http.waitUntilListening(timeout: timeout) }

    /// The bound port (useful with port 0).
    public func port() async -> UInt16? { http.port }

    /// Stops gracefully: from now on new requests get 503 `stopping` (nothing of theirs is written),
    /// requests already being handled get up to `timeout` seconds to finish and answer, then the
    /// listener and connections close. A write acknowledged before this returns is in the store.
    /// Bounded: a handler that ignores cancellation (a client that never sends the rest of its body)
    /// is left behind after `timeout` plus a second.
    public func stop(timeout: Double = 5) async {
        inFlight.drain()
        let end = Date().addingTimeInterval(timeout)
        while inFlight.count > 0 && Date() < end {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        // Handlers are done (or out of time) by now: the listener and idle connections close at once.
        await http.stop(timeout: max(0, end.timeIntervalSinceNow) + 1)
    }
}

/// The route table: routes are added while the server starts, then read by every request.
final class RouterBox: Sendable {
    private let table = Mutex(Router())
    var router: Router { table.withLock { $0 } }
    func add(_ routes: [Route]) {
        table.withLock { router in
            for r in routes { router.add(r.method, r.template, rest: r.rest, r.handler) }
        }
    }
}

/// Counts requests being handled, so a graceful stop can wait for them; once draining, no request
/// enters (so the count can only fall).
final class InFlight: Sendable {
    private struct State { var count = 0; var draining = false }
    private let state = Mutex(State())
    var count: Int { state.withLock { $0.count } }
    /// Counts a request in; false once the server is stopping.
    func enter() -> Bool {
        state.withLock { s in
            if s.draining { return false }
            s.count += 1
            return true
        }
    }
    func leave() { state.withLock { $0.count -= 1 } }
    func drain() { state.withLock { $0.draining = true } }
}

struct Dispatcher: Sendable {
    let context: ServiceContext
    let table: RouterBox
    let inFlight: InFlight

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard inFlight.enter() else {
            var r = HTTPResponse.error(APIError(status: 503, code: "stopping", message: "the server is stopping; retry against the next one"))
            r.headers[.connection] = "close"
            return r
        }
        defer { inFlight.leave() }
        let start = DispatchTime.now().uptimeNanoseconds
        let method = request.method.rawValue
        var routeName = "unmatched"
        var allow: String?
        var response: HTTPResponse
        do {
            switch table.router.match(method: method, path: request.path) {
            case .notFound:
                throw APIError.notFound("no route for \(method) \(request.path)", code: "no_route")
            case .methodNotAllowed(let allowed):
                allow = allowed.joined(separator: ", ")
                throw APIError(status: 405, code: "method_not_allowed",
                               message: "\(method) is not allowed on \(request.path); allowed: \(allowed.joined(separator: ", "))")
            case .found(let route, let params):
                routeName = route.template
                try authorize(request, route: route.template)
                let body = try await readBody(request)
                response = try await route.handler(RequestContext(request: request, route: route.template, params: params, body: body))
            }
        } catch {
            // The one place a thrown error becomes an answer: each module's error carries its category
            // and code (`CategorizedError`), `APIError(_:)` maps them; decoding errors name the field.
            let e = (error as? DecodingError).map { APIError.badRequest(JSONCodec.describe($0), code: "invalid_json") }
                ?? (error is ConnectionTimeout ? APIError(status: 408, code: "request_timeout",
                                                          message: "the request body stopped arriving (less than 1 KiB in \(Int(context.config.readTimeout)) s)") : nil)
                ?? APIError(error)
            if e.status >= 500, !(error is CancellationError) { context.logger.error("\(method) \(request.path): \(error)") }
            response = .error(e)
            if e.status == 405, let allow { response.headers[HTTPHeader("Allow")] = allow }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        context.metrics.record(route: routeName, method: method, status: response.statusCode.code, seconds: seconds)
        context.logger.request("\(method) \(request.path) \(response.statusCode.code) \(String(format: "%.2f", seconds * 1000)) ms")
        return response
    }

    /// Reads the body, enforcing the limit from Content-Length before reading and while reading chunks.
    func readBody(_ request: HTTPRequest) async throws -> Data {
        let limit = context.config.maxBodyBytes
        if let length = request.headers[.contentLength] {
            guard let n = Int(length), n >= 0 else { throw APIError.badRequest("invalid Content-Length", code: "bad_request") }
            if n > limit { throw APIError.tooLarge("request body of \(n) bytes exceeds the limit of \(limit) bytes") }
            if n == 0 { return Data() }
            if let io = RequestBodySource.connection { return try await io.readWholeBody() }
            return try await request.bodyData
        }
        guard request.headers[.transferEncoding] != nil else { return Data() }
        var data = Data()
        for try await chunk in request.bodySequence {
            data.append(chunk)
            if data.count > limit { throw APIError.tooLarge("chunked request body exceeds the limit of \(limit) bytes") }
        }
        return data
    }
}
