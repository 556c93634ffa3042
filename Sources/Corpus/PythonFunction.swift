// Value types for extracted functions and their static properties.

import Core

// `FunctionProperties` and `ReturnAnnotationCategory` live in Core (the store and the probes share them).

/// A function (`def` or `async def`) extracted from a Python file.
///
/// Lines are 1-based; byte offsets index the file's text as UTF-8 (after decoding its declared
/// encoding and dropping a BOM; for UTF-8 files these are file offsets).
public struct PythonFunction: Sendable, Codable, Equatable {
    /// Path of the file relative to the scanned root (or as given to `PythonExtractor`).
    public var path: String
    /// Python's `__qualname__`: `f`, `Class.method`, `A.B.m`, `outer.<locals>.inner`.
    public var qualifiedName: String
    /// 0 for the first function with this qualified name in the file, 1 for the next (a property's setter), ...
    public var occurrence: Int
    /// Line of the first decorator, or of `def` when there is none.
    public var startLine: Int
    /// Line of `def` (or `async`): `ast`'s `lineno`.
    public var defLine: Int
    /// Last line of the body: `ast`'s `end_lineno`.
    public var endLine: Int
    /// Offset of the start of `startLine` (the function text includes its indentation).
    public var startByte: Int
    /// Offset of the `def`/`async` token.
    public var defByte: Int
    /// End of the signature: after the header's `:` or, with a docstring, after the docstring.
    public var signatureEndByte: Int
    /// Start of the body text (see `body`).
    public var bodyStartByte: Int
    /// One past the last token of the body: `ast`'s `end_col_offset` on `endLine`.
    public var endByte: Int
    /// Decorators + `def` header through its colon + the docstring if any (from `startByte`).
    public var signature: String
    /// The remaining lines: if the signature ends its line, the body starts at the next line (with its
    /// indentation); otherwise (one-line bodies) right after the signature and following blanks.
    public var body: String
    /// `Core.FunctionHash.content(signature:body:)`: SHA-256 (hex) of signature + NUL + body.
    public var contentHash: String
    /// `Core.FunctionHash.body(_:)`: SHA-256 (hex) of the normalised body (duplicate groups): CRLF/CR → LF,
    /// leading tabs expanded to 8 columns, trailing whitespace removed, blank lines dropped, common
    /// indentation removed, runs of spaces/tabs inside a line collapsed to one space.
    public var bodyHash: String
    public var properties: FunctionProperties

    /// A key unique within a file: the qualified name, with `#2`, `#3`, ... for later redefinitions.
    public var key: String { occurrence == 0 ? qualifiedName : "\(qualifiedName)#\(occurrence + 1)" }
}
