import Foundation

/// Character classes of Hugging Face `tokenizers`' BertNormalizer and BertPreTokenizer.
///
/// `tokenizers` takes general categories from the `unicode_categories` crate, whose tables are
/// Unicode 8.0; Swift's are newer. A category test here therefore also requires the code point to
/// have been assigned by Unicode 8.0 (`properties.age`), plus the few code points whose category
/// changed since (e.g. U+166D and U+111C9 were punctuation in 8.0). The test suite checks every code
/// point against `tokenizers` itself.
enum BertText {
    static func assignedByUnicode8(_ c: Unicode.Scalar) -> Bool {
        guard let age = c.properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }

    /// Removed by `clean_text`: NUL, U+FFFD and "other" characters (Cc, Cf, Co, Cs) except \t \n \r.
    @inline(__always)
    static func isRemovedControl(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 { return (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0x7F }
        if v == 0xFFFD { return true }
        switch c.properties.generalCategory {
        case .control, .privateUse, .surrogate: return true
        case .format: return assignedByUnicode8(c)
        default: return false
        }
    }

    /// Whitespace as BERT sees it: \t \n \r and Unicode White_Space.
    @inline(__always)
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 { return v == 0x20 || v == 0x09 || v == 0x0A || v == 0x0D || v == 0x0B || v == 0x0C }
        return c.properties.isWhitespace
    }

    /// BERT punctuation: ASCII punctuation/symbols, or Unicode P* (as of Unicode 8.0).
    @inline(__always)
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 {
            return (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
        }
        if v == 0x166D || v == 0x111C9 { return true }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return assignedByUnicode8(c)
        default: return false
        }
    }

    /// Nonspacing marks deleted by `strip_accents` (Mn, as of Unicode 8.0).
    @inline(__always)
    static func isNonspacingMark(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x300 { return false }
        switch v {
        case 0x1734, 0x1171E: return true  // Mn in 8.0, Mc since
        case 0x1885, 0x1886, 0xA9BD, 0x111C9: return false  // became Mn after 8.0
        default: return c.properties.generalCategory == .nonspacingMark && assignedByUnicode8(c)
        }
    }

    /// CJK ideographs that BERT surrounds with spaces (the ranges of the original BERT code).
    @inline(__always)
    static func isChineseChar(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    /// Canonical decomposition (NFD) of one scalar.
    static func decompose(_ c: Unicode.Scalar, into out: inout [Unicode.Scalar]) {
        if c.value < 0xC0 { out.append(c); return }
        let v = c.value
        if v >= 0xAC00 && v <= 0xD7A3 { // Hangul syllables: algorithmic.
            let s = v - 0xAC00
            out.append(Unicode.Scalar(0x1100 + s / 588)!)
            out.append(Unicode.Scalar(0x1161 + (s % 588) / 28)!)
            if s % 28 != 0 { out.append(Unicode.Scalar(0x11A7 + s % 28)!) }
            return
        }
        // tokenizers' normalisation tables predate later additions: those stay as they are.
        guard assignedByUnicode8(c) else { out.append(c); return }
        let d = String(Character(c)).decomposedStringWithCanonicalMapping
        out.append(contentsOf: d.unicodeScalars)
    }
}
