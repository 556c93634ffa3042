import Foundation

extension APIServer {
    /// Every route of the service, as `swejepa serve` registers them.
    public static func allRoutes(_ ctx: ServiceContext) -> [Route] {
        let search = ctx.search
        var routes = dashboardRoutes() + systemRoutes(ctx)
        routes += functionRoutes(ctx, afterDelete: { id in await search?.afterDelete(function: id) })
        routes += spaceRoutes(ctx, onDelete: { name in search?.drop(space: name) })
        routes += vectorRoutes(ctx, afterWrite: { space, batch, generation in
            try await search?.afterWrite(space: space.name, batch: batch, generation: generation)
        })
        if let search { routes += searchRoutes(ctx, search: search) }
        if let runner = ctx.jobs { routes += jobRoutes(ctx, runner: runner) + repoRoutes(ctx, runner: runner) }
        routes += embedRoutes(ctx)
        routes += predictRoutes(ctx)
        routes += analysisRoutes(ctx)
        return routes
    }
}
