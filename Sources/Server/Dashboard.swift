import Core
import FlyingFox
import Foundation

extension APIServer {
    /// The dashboard: `GET /` is `dashboard/index.html`, `GET /dashboard/{path}` any other file of the
    /// repository's `dashboard/` folder (CSS, JavaScript modules, SVG), compiled into the binary by the
    /// `EmbedDashboard` plugin. No token is needed (the page's API calls carry it); every answer is
    /// `Cache-Control: no-cache`, so a new binary's page is picked up at the next load.
    ///
    /// ```
    /// GET /                          → index.html (text/html)
    /// GET /dashboard/js/api.js       → text/javascript
    /// GET /dashboard/nope.js         → 404 {"error":{"code":"unknown_asset",…}}
    /// GET /dashboard/%2e%2e/x        → 400 {"error":{"code":"invalid_path",…}}
    /// ```
    public static func dashboardRoutes() -> [Route] {
        [
            Route("GET", "/") { _ in try DashboardAssets.response(for: "index.html") },
            Route("GET", "/dashboard/{path}", rest: true) { req in try DashboardAssets.response(for: req.param("path")) },
        ]
    }
}

/// The embedded `dashboard/` files and how they are served.
///
/// ```swift
/// DashboardAssets.contentType(of: "js/main.js")   // "text/javascript; charset=utf-8"
/// ```
enum DashboardAssets {
    /// Every asset path (relative to `dashboard/`), sorted.
    static var paths: [String] { EmbeddedDashboard.files.keys.sorted() }

    static let types: [String: String] = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml", "json": "application/json", "md": "text/markdown; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
    ]

    static func contentType(of path: String) -> String {
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return types[ext] ?? "application/octet-stream"
    }

    /// The asset at `path`, or a 400 for a path with dot or empty segments (no traversal, even though
    /// the lookup is in a fixed table), or a 404 for a file the folder does not have.
    static func response(for path: String) throws -> HTTPResponse {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty, segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\\") }) else {
            throw APIError.badRequest("'\(path)' is not a dashboard asset path", code: "invalid_path")
        }
        guard let text = EmbeddedDashboard.files[path] else {
            throw APIError.notFound("the dashboard has no asset '\(path)'", code: "unknown_asset")
        }
        return HTTPResponse(statusCode: .ok,
                            headers: [.contentType: contentType(of: path), .cacheControl: "no-cache"],
                            body: Data(text.utf8))
    }
}
