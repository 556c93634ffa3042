// Line-range sets mapped across diffs exactly as git's line-log.c does for `git log -L`
// (range_set_union, range_set_difference, diff_ranges_filter_touched, range_set_shift_diff,
// range_set_map_across_diff). Ranges are 0-based and half-open: [start, end).

/// A half-open line range [start, end), 0-based.
struct LineRange: Sendable, Equatable, Hashable {
    var start: Int
    var end: Int
}

/// One diff hunk: lines [parent.start, parent.end) of the parent became [target.start, target.end) of the child.
struct DiffHunk: Sendable, Equatable {
    var parent: LineRange
    var target: LineRange
}

/// Sorted, non-overlapping, non-empty ranges (git's canonical range_set).
struct LineRangeSet: Sendable, Equatable {
    var ranges: [LineRange] = []

    var isEmpty: Bool { ranges.isEmpty }

    /// git's range_set_union: merges overlapping and adjacent ranges, drops empty ones.
    static func union(_ a: [LineRange], _ b: [LineRange]) -> LineRangeSet {
        var out: [LineRange] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            let new: LineRange
            if i < a.count && j < b.count {
                if a[i].start < b[j].start { new = a[i]; i += 1 }
                else if a[i].start > b[j].start { new = b[j]; j += 1 }
                else if a[i].end < b[j].end { new = a[i]; i += 1 }
                else { new = b[j]; j += 1 }
            } else if i < a.count { new = a[i]; i += 1 } else { new = b[j]; j += 1 }
            if new.start == new.end { continue }
            if out.isEmpty || out[out.count - 1].end < new.start {
                out.append(new)
            } else if out[out.count - 1].end < new.end {
                out[out.count - 1].end = new.end
            }
        }
        return LineRangeSet(ranges: out)
    }

    /// git's range_set_difference (a \ b).
    static func difference(_ a: [LineRange], _ b: [LineRange]) -> [LineRange] {
        var out: [LineRange] = []
        var j = 0
        for r in a {
            var start = r.start
            let end = r.end
            while start < end {
                while j < b.count && start >= b[j].end { j += 1 }
                if j >= b.count || end < b[j].start {
                    out.append(LineRange(start: start, end: end))
                    break
                }
                if start >= b[j].start {
                    start = b[j].end
                } else if end > b[j].start {
                    if start < b[j].start { out.append(LineRange(start: start, end: b[j].start)) }
                    start = b[j].end
                }
            }
        }
        return out
    }

    /// Maps this set across `diff` (hunks in order), from the child's lines to the parent's.
    /// Returns the parent-side set and whether any hunk touched the set (the commit "changed" it).
    func mapAcross(_ diff: [DiffHunk]) -> (LineRangeSet, touched: Bool) {
        guard !ranges.isEmpty else { return (self, false) }
        // diff_ranges_filter_touched
        var touchedParent: [LineRange] = [], touchedTarget: [LineRange] = []
        var j = 0
        scan: for h in diff {
            while h.target.start > ranges[j].end {
                j += 1
                if j == ranges.count { break scan }
            }
            let a = h.target, b = ranges[j]
            if !(a.end <= b.start || b.end <= a.start) {
                touchedParent.append(h.parent)
                touchedTarget.append(h.target)
            }
        }
        let tmp1 = LineRangeSet.difference(ranges, touchedTarget)
        // range_set_shift_diff (over the whole diff)
        var tmp2: [LineRange] = []
        tmp2.reserveCapacity(tmp1.count)
        var k = 0, offset = 0
        for r in tmp1 {
            while k < diff.count && r.start >= diff[k].target.start {
                offset += (diff[k].parent.end - diff[k].parent.start) - (diff[k].target.end - diff[k].target.start)
                k += 1
            }
            tmp2.append(LineRange(start: r.start + offset, end: r.end + offset))
        }
        return (LineRangeSet.union(tmp2, touchedParent), !touchedParent.isEmpty)
    }
}
