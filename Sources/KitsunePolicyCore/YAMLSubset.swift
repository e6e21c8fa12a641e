// The policy file format: a strict subset of YAML 1.2 that a security person can read and review.
// Supported: block mappings, block sequences (also at the parent key's indentation), flow
// sequences `[a, b]`, empty `{}`, plain / 'single' / "double" quoted scalars, comments, `---`.
// Not supported (rejected with the line): anchors, aliases, tags, multi-line scalars, tabs.

/// Reads the YAML subset into a ``DataNode`` tree.
public struct YAMLSubsetReader {
    struct Line {
        var indent: Int
        var text: Bytes
        let number: Int
    }

    var lines: [Line] = []
    var pos = 0

    public init() {}

    /// Parse a whole document. An empty document is an empty mapping.
    public static func parse(_ source: Bytes) throws(ParseError) -> DataNode {
        var reader = YAMLSubsetReader()
        try reader.tokenize(source)
        guard !reader.lines.isEmpty else { return .map([], line: 1) }
        let node = try reader.parseBlock(indent: reader.lines[0].indent)
        if reader.pos < reader.lines.count {
            throw ParseError(line: reader.lines[reader.pos].number, "unexpected indentation or content")
        }
        return node
    }

    mutating func tokenize(_ source: Bytes) throws(ParseError) {
        var number = 0
        for raw in source.split(separator: 10) {
            number += 1
            var indent = 0
            while indent < raw.count && raw[indent] == 32 { indent += 1 }
            if indent < raw.count && raw[indent] == 9 { throw ParseError(line: number, "tab used for indentation") }
            let text = try Self.stripComment(Bytes(raw[indent...]), line: number).trimmed()
            if text.isEmpty { continue }
            if text == Bytes(literal: "---") && lines.isEmpty { continue }
            if text == Bytes(literal: "...") { break }
            if let c = text.first, c == 38 || c == 42 || c == 33 || c == 124 || c == 62 {
                throw ParseError(line: number, "anchors, aliases, tags and block scalars are not supported")
            }
            lines.append(Line(indent: indent, text: text, number: number))
        }
    }

    /// Remove a `#` comment that is outside quotes and starts the line or follows a space.
    static func stripComment(_ text: Bytes, line: Int) throws(ParseError) -> Bytes {
        var quote: UInt8 = 0
        var i = 0
        while i < text.count {
            let c = text[i]
            if quote != 0 {
                if c == 92 && quote == 34 { i += 2; continue }
                if c == quote { quote = 0 }
            } else if c == 34 || c == 39 {
                if i == 0 || text[i - 1] == 32 || text[i - 1] == 91 || text[i - 1] == 44 || text[i - 1] == 58 { quote = c }
            } else if c == 35 && (i == 0 || text[i - 1] == 32) {
                return Bytes(text[..<i])
            }
            i += 1
        }
        return text
    }

    static func isSequenceItem(_ text: Bytes) -> Bool {
        text == [45] || text.hasPrefix([45, 32])
    }

    mutating func parseBlock(indent: Int) throws(ParseError) -> DataNode {
        if Self.isSequenceItem(lines[pos].text) { return try parseSequence(indent: indent) }
        return try parseMapping(indent: indent)
    }

    mutating func parseMapping(indent: Int) throws(ParseError) -> DataNode {
        let start = lines[pos].number
        var entries: [DataEntry] = []
        while pos < lines.count && lines[pos].indent == indent && !Self.isSequenceItem(lines[pos].text) {
            let line = lines[pos]
            guard let (key, rest) = try Self.splitKey(line.text, line: line.number) else {
                throw ParseError(line: line.number, "expected `key: value`")
            }
            for e in entries where e.key == key {
                _ = e
                throw ParseError(line: line.number, "duplicate key")
            }
            pos += 1
            let value: DataNode
            if !rest.isEmpty {
                value = try Self.parseInline(rest, line: line.number)
            } else if pos < lines.count && lines[pos].indent > indent {
                value = try parseBlock(indent: lines[pos].indent)
            } else if pos < lines.count && lines[pos].indent == indent && Self.isSequenceItem(lines[pos].text) {
                value = try parseSequence(indent: indent)
            } else {
                value = .null(line: line.number)
            }
            entries.append(DataEntry(key: key, value: value, line: line.number))
        }
        if pos < lines.count && lines[pos].indent > indent {
            throw ParseError(line: lines[pos].number, "unexpected indentation")
        }
        return .map(entries, line: start)
    }

    mutating func parseSequence(indent: Int) throws(ParseError) -> DataNode {
        let start = lines[pos].number
        var items: [DataNode] = []
        while pos < lines.count && lines[pos].indent == indent && Self.isSequenceItem(lines[pos].text) {
            let line = lines[pos]
            var offset = 1
            while offset < line.text.count && line.text[offset] == 32 { offset += 1 }
            let rest = Bytes(line.text[offset...])
            if rest.isEmpty {
                pos += 1
                guard pos < lines.count && lines[pos].indent > indent else {
                    items.append(.null(line: line.number))
                    continue
                }
                items.append(try parseBlock(indent: lines[pos].indent))
            } else if try Self.startsBlock(rest, line: line.number) {
                // `- key: value` starts a mapping (or `- - x` a sequence) indented past the dash.
                lines[pos] = Line(indent: indent + offset, text: rest, number: line.number)
                items.append(try parseBlock(indent: indent + offset))
            } else {
                pos += 1
                items.append(try Self.parseInline(rest, line: line.number))
            }
        }
        return .list(items, line: start)
    }

    static func startsBlock(_ text: Bytes, line: Int) throws(ParseError) -> Bool {
        if isSequenceItem(text) { return true }
        return try splitKey(text, line: line) != nil
    }

    /// Split `key: rest` (key plain or quoted). Nil when the line is not a mapping entry.
    static func splitKey(_ text: Bytes, line: Int) throws(ParseError) -> (Bytes, Bytes)? {
        if let q = text.first, q == 34 || q == 39 {
            let (key, end) = try parseQuoted(text, from: 0, line: line)
            var i = end
            while i < text.count && text[i] == 32 { i += 1 }
            guard i < text.count && text[i] == 58 else { return nil }
            return (key, Bytes(text[(i + 1)...]).trimmed())
        }
        if text.first == 91 || text.first == 123 { return nil }
        var i = 0
        while i < text.count {
            if text[i] == 58 && (i + 1 == text.count || text[i + 1] == 32) {
                let key = Bytes(text[..<i]).trimmed()
                if key.isEmpty { return nil }
                return (key, Bytes(text[(i + 1)...]).trimmed())
            }
            i += 1
        }
        return nil
    }

    static func parseInline(_ text: Bytes, line: Int) throws(ParseError) -> DataNode {
        guard let first = text.first else { return .null(line: line) }
        if first == 91 { return try parseFlowSequence(text, line: line) }
        if first == 123 {
            guard text.count >= 2 && text.last == 125 && Bytes(text[1..<(text.count - 1)]).trimmed().isEmpty else {
                throw ParseError(line: line, "only empty flow mappings `{}` are supported")
            }
            return .map([], line: line)
        }
        if first == 34 || first == 39 {
            let (value, end) = try parseQuoted(text, from: 0, line: line)
            guard Bytes(text[end...]).trimmed().isEmpty else { throw ParseError(line: line, "text after a quoted scalar") }
            return .scalar(value, line: line)
        }
        if text == Bytes(literal: "~") || text == Bytes(literal: "null") { return .null(line: line) }
        return .scalar(text, line: line)
    }

    static func parseFlowSequence(_ text: Bytes, line: Int) throws(ParseError) -> DataNode {
        guard text.last == 93 else { throw ParseError(line: line, "unterminated flow sequence `[`") }
        var items: [DataNode] = []
        var i = 1
        let end = text.count - 1
        while i < end {
            while i < end && text[i] == 32 { i += 1 }
            if i >= end { break }
            if text[i] == 34 || text[i] == 39 {
                let (value, next) = try parseQuoted(text, from: i, line: line)
                items.append(.scalar(value, line: line))
                i = next
                while i < end && text[i] == 32 { i += 1 }
                if i < end {
                    guard text[i] == 44 else { throw ParseError(line: line, "expected `,` in flow sequence") }
                    i += 1
                }
            } else {
                var j = i
                while j < end && text[j] != 44 { j += 1 }
                let item = Bytes(text[i..<j]).trimmed()
                if item.isEmpty { throw ParseError(line: line, "empty item in flow sequence") }
                if item.first == 91 || item.first == 123 { throw ParseError(line: line, "nested flow collections are not supported") }
                items.append(.scalar(item, line: line))
                i = j + 1
            }
        }
        return .list(items, line: line)
    }

    /// Parse a quoted scalar starting at `from`; returns the value and the index after the closing quote.
    static func parseQuoted(_ text: Bytes, from: Int, line: Int) throws(ParseError) -> (Bytes, Int) {
        let quote = text[from]
        var out: Bytes = []
        var i = from + 1
        while i < text.count {
            let c = text[i]
            if quote == 39 && c == 39 {
                if i + 1 < text.count && text[i + 1] == 39 { out.append(39); i += 2; continue }
                return (out, i + 1)
            }
            if quote == 34 && c == 34 { return (out, i + 1) }
            if quote == 34 && c == 92 {
                guard i + 1 < text.count else { break }
                switch text[i + 1] {
                case 110: out.append(10)
                case 116: out.append(9)
                case 114: out.append(13)
                case 48: out.append(0)
                case 34, 92, 47: out.append(text[i + 1])
                default: throw ParseError(line: line, "unsupported escape in double-quoted scalar")
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        throw ParseError(line: line, "unterminated quoted scalar")
    }
}
