import Foundation

extension RuntimePolicy {
    /// The YAML document equivalent to a JSON policy object (`{"name": …, "scope": {…}, …}`), in
    /// block style with every string double-quoted, so it goes through the same parser and is stored
    /// and diffed the same way as a YAML one. `name`, `mode`, `priority` and `scope` come first.
    public static func yaml(fromJSON data: Data) throws(RuntimePolicyError) -> String {
        let object: JSONValue
        do { object = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw RuntimePolicyError(field: "", "the body is not JSON")
        }
        guard case .object(let root) = object else { throw RuntimePolicyError(field: "", "a policy is a JSON object") }
        let first = ["name", "mode", "priority", "scope"]
        let keys = first.filter { root[$0] != nil } + root.keys.filter { !first.contains($0) }.sorted()
        var out = ""
        for key in keys { try emit(key: key, root[key]!, indent: 0, path: key, into: &out) }
        return out
    }

    private static func emit(key: String, _ value: JSONValue, indent: Int, path: String, into out: inout String) throws(RuntimePolicyError) {
        let pad = String(repeating: " ", count: indent)
        let k = try scalarText(.string(key), path: path)
        if case .object(let map) = value {
            if map.isEmpty { out += "\(pad)\(k): {}\n"; return }
            out += "\(pad)\(k):\n"
            for sub in map.keys.sorted() { try emit(key: sub, map[sub]!, indent: indent + 2, path: "\(path).\(sub)", into: &out) }
        } else if case .array(let list) = value {
            if list.isEmpty { out += "\(pad)\(k): []\n"; return }
            if list.allSatisfy({ !$0.isContainer }) {
                var items: [String] = []
                for (i, item) in list.enumerated() { items.append(try scalarText(item, path: "\(path)[\(i)]")) }
                out += "\(pad)\(k): [\(items.joined(separator: ", "))]\n"
                return
            }
            out += "\(pad)\(k):\n"
            for (i, item) in list.enumerated() {
                guard case .object(let map) = item, !map.isEmpty else {
                    throw RuntimePolicyError(field: "\(path)[\(i)]", "a list mixes values and mappings, or nests lists")
                }
                var first = true
                for sub in map.keys.sorted() {
                    var line = ""
                    try emit(key: sub, map[sub]!, indent: indent + 4, path: "\(path)[\(i)].\(sub)", into: &line)
                    if first { line = pad + "  - " + line.dropFirst(indent + 4); first = false }
                    out += line
                }
            }
        } else {
            out += "\(pad)\(k): \(try scalarText(value, path: path))\n"
        }
    }

    private static func scalarText(_ value: JSONValue, path: String) throws(RuntimePolicyError) -> String {
        let string: String
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): string = s
        case .array, .object: throw RuntimePolicyError(field: path, "expected a string, number or boolean")
        }
        var quoted = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n", "\r", "\t", "\0": throw RuntimePolicyError(field: path, "control characters are not allowed in policy values")
            default:
                guard scalar.properties.generalCategory != .control else { throw RuntimePolicyError(field: path, "control characters are not allowed in policy values") }
                quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}

/// A JSON document as values (what ``RuntimePolicy/yaml(fromJSON:)`` walks).
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    var isContainer: Bool {
        switch self { case .array, .object: return true; default: return false }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}
