import Foundation

extension APIServer {
    /// Every route of the service, as `swejepa serve` registers them.
    public static func allRoutes(_ ctx: ServiceContext) -> [Route] {
        systemRoutes(ctx) + functionRoutes(ctx) + spaceRoutes(ctx) + vectorRoutes(ctx)
    }
}
