// A tree of scalars, lists and maps with source line numbers: what the policy (YAML subset) and
// manifest (JSON) readers produce, so that one loader can name the file, line and field of a mistake.

/// A parsed document node. Scalars keep their text as UTF-8 bytes.
public indirect enum DataNode {
    case scalar(Bytes, line: Int)
    case null(line: Int)
    case list([DataNode], line: Int)
    case map([DataEntry], line: Int)

    /// The 1-based source line of the node.
    public var line: Int {
        switch self {
        case .scalar(_, let l), .null(let l), .list(_, let l), .map(_, let l): return l
        }
    }

    /// A word for error messages.
    public var kindName: StaticString {
        switch self {
        case .scalar: return "a scalar"
        case .null: return "nothing"
        case .list: return "a list"
        case .map: return "a mapping"
        }
    }
}

/// One `key: value` pair of a mapping.
public struct DataEntry {
    public let key: Bytes
    public let value: DataNode
    public let line: Int

    public init(key: Bytes, value: DataNode, line: Int) {
        self.key = key
        self.value = value
        self.line = line
    }
}

/// A syntax or schema error with the line it was found at.
public struct ParseError: Error {
    public let line: Int
    public let message: Bytes

    public init(line: Int, _ message: Bytes) {
        self.line = line
        self.message = message
    }

    public init(line: Int, _ message: StaticString) {
        self.init(line: line, Bytes(literal: message))
    }
}
