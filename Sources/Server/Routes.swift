import Foundation

extension APIServer {
    /// Every route of the service, as `swejepa serve` registers them.
    public static func allRoutes(_ ctx: ServiceContext) -> [Route] {
        var routes = dashboardRoutes() + systemRoutes(ctx) + functionRoutes(ctx) + spaceRoutes(ctx) + vectorRoutes(ctx)
        if let runner = ctx.jobs { routes += jobRoutes(ctx, runner: runner) + repoRoutes(ctx, runner: runner) }
        routes += embedRoutes(ctx)
        return routes
    }
}
