import Foundation

extension APIServer {
    /// Every route of the service, as `swejepa serve` registers them.
    public static func allRoutes(_ ctx: ServiceContext) -> [Route] {
        var routes = dashboardRoutes() + systemRoutes(ctx)
        routes += functionRoutes(ctx) + spaceRoutes(ctx) + vectorRoutes(ctx)
        if let search = ctx.search { routes += searchRoutes(ctx, search: search) }
        if let runner = ctx.jobs { routes += jobRoutes(ctx, runner: runner) + remoteJobRoutes(ctx, runner: runner) + repoRoutes(ctx, runner: runner) }
        routes += embedRoutes(ctx)
        routes += predictRoutes(ctx)
        routes += analysisRoutes(ctx)
        return routes
    }
}
