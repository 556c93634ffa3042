import Core

/// FlyingFox has a `JSONValue` of its own; inside this module the name means ours.
typealias JSONValue = Core.JSONValue
