import Core
import FlyingFox
import Foundation

/// Which requests need the bearer token (`serve --auth`), when the server has one.
///
/// ```swift
/// var config = ServerConfig()
/// config.token = "s3cret"
/// config.auth = .reads        // every route but /healthz (and the dashboard page) needs the token
/// ```
public enum AuthScope: String, Sendable, CaseIterable {
    /// POST, PUT, PATCH and DELETE need the token; reads are public (the default).
    case writes
    /// Every request needs the token except `GET /healthz` and the dashboard (`GET /`, `GET /dashboard/…`)
    /// (which asks for the token and sends it with its API calls).
    case reads

    /// Routes answered without a token whatever the scope (the dashboard's page and assets: its API
    /// calls carry the token).
    static let publicRoutes: Set<String> = ["GET /healthz", "GET /", "GET /dashboard/{path}"]

    /// Whether a request to `route` (a template) with `method` needs the token.
    func needsToken(method: String, route: String) -> Bool {
        switch self {
        case .writes: ["POST", "PUT", "PATCH", "DELETE"].contains(method)
        case .reads: !Self.publicRoutes.contains("\(method) \(route)")
        }
    }
}

/// Compares an `Authorization` header with the expected bearer token in time independent of where
/// they differ and of their lengths: both are hashed (SHA-256) and the digests compared in full.
///
/// ```swift
/// BearerToken("s3cret").matches("Bearer s3cret")   // true
/// ```
struct BearerToken: Sendable {
    private let digest: [UInt8]

    init(_ token: String) { digest = Array(SHA256.hex("Bearer \(token)").utf8) }

    func matches(_ header: String?) -> Bool {
        let given = Array(SHA256.hex(header ?? "").utf8)
        guard given.count == digest.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<digest.count { diff |= given[i] ^ digest[i] }
        return diff == 0
    }
}

extension Dispatcher {
    /// Refuses (401) a request that needs the token (see `AuthScope`) and lacks it.
    func authorize(_ request: HTTPRequest, route: String) throws {
        guard let token = context.config.token, !token.isEmpty else { return }
        let m = request.method.rawValue
        guard context.config.auth.needsToken(method: m, route: route) else { return }
        guard BearerToken(token).matches(request.headers[.authorization]) else {
            switch context.config.auth {
            case .writes: throw APIError.unauthorized("this server needs 'Authorization: Bearer <token>' for \(m) requests")
            case .reads: throw APIError.unauthorized("this server needs 'Authorization: Bearer <token>' for every request but /healthz")
            }
        }
    }
}
