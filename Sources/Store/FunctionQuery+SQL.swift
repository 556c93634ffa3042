import Core
import Foundation

extension FunctionQuery {
    /// What differs between the backends in a function listing's filters: how "contains" is spelt, and
    /// the signature's column type (SQLite text, PostgreSQL `bytea`, matched as UTF-8 bytes).
    enum Dialect {
        case sqlite, postgres

        /// `column` contains the next parameter, literally (no pattern characters).
        func contains(_ column: String) -> String {
            self == .sqlite ? "instr(\(column), ?) > 0" : "strpos(\(column), ?) > 0"
        }

        func signatureContains() -> String {
            self == .sqlite ? "instr(f.signature, ?) > 0" : "position(? IN f.signature) > 0"
        }

        func signatureValue(_ text: String) -> SQLValue { self == .sqlite ? .text(text) : .blob(Data(text.utf8)) }
    }

    /// The listing's `WHERE` clause (over `functions f JOIN repositories r`) and its parameters, written
    /// once for both backends. Prefix and substring tests compare characters, never `LIKE` patterns, so
    /// a `%` or `_` in a filter is matched as itself and case always counts (SQLite's `LIKE` ignores ASCII case).
    ///
    /// ```swift
    /// let (sql, args) = FunctionQuery(path: "src/").whereClause(.sqlite)
    /// // "f.id > ? AND substr(f.path, 1, length(?)) = ?", [.int(0), .text("src/"), .text("src/")]
    /// ```
    func whereClause(_ dialect: Dialect) -> (sql: String, args: [SQLValue]) {
        var sql = "f.id > ?"
        var args: [SQLValue] = [.int(after ?? 0)]
        if let repo { sql += " AND r.name = ?"; args.append(.text(repo)) }
        if let path, !path.isEmpty {
            sql += " AND substr(f.path, 1, length(?)) = ?"
            args += [.text(path), .text(path)]
        }
        if let text, !text.isEmpty {
            sql += " AND (\(dialect.contains("f.qualified_name")) OR \(dialect.contains("f.path")))"
            args += [.text(text), .text(text)]
        }
        if let signature, !signature.isEmpty {
            sql += " AND \(dialect.signatureContains())"
            args.append(dialect.signatureValue(signature))
        }
        return (sql, args)
    }
}
