import Foundation

/// A JSON-shaped value: what policy documents, resource policies and template properties are read into.
/// Template intrinsics that cannot be resolved statically are kept as `.intrinsic` (never as a wildcard).
public indirect enum JSONValue: Hashable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])
    /// An unresolved CloudFormation intrinsic such as `!Ref Bucket` / `{"Fn::GetAtt": …}`: a concrete but
    /// unknown value (name of the function, its argument rendered as text).
    case intrinsic(String, String)

    /// Parses JSON text.
    public static func parse(_ text: String) throws -> JSONValue {
        guard let data = text.data(using: .utf8) else { throw JSONValueError.notUTF8 }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw JSONValueError.syntax((error as NSError).localizedDescription)
        }
        return try JSONValue(foundation: object)
    }

    /// Converts a `JSONSerialization` result.
    public init(foundation value: Any) throws {
        switch value {
        case let string as String: self = .string(string)
        case let number as NSNumber:
            // Booleans arrive as NSNumber with the `char` encoding on every platform.
            if String(cString: number.objCType) == "c" { self = .bool(number.boolValue) } else {
                self = .number(number.doubleValue)
            }
        case is NSNull: self = .null
        case let array as [Any]: self = .array(try array.map { try JSONValue(foundation: $0) })
        case let dict as [String: Any]:
            var out: [String: JSONValue] = [:]
            for (key, item) in dict { out[key] = try JSONValue(foundation: item) }
            self = .object(out)
        default: throw JSONValueError.syntax("unsupported JSON value \(type(of: value))")
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// A short description of the kind of value, for error messages.
    public var kindName: String {
        switch self {
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        case .intrinsic(let name, _): return "the intrinsic \(name)"
        }
    }

    /// Text form for messages and placeholders.
    public var displayText: String {
        switch self {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .array(let a): return "[" + a.map(\.displayText).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]?.displayText ?? "")" }.joined(separator: ", ") + "}"
        case .intrinsic(let name, let arg): return "\(name)(\(arg))"
        }
    }
}

/// JSON text that could not be read.
public enum JSONValueError: Error, CustomStringConvertible, Equatable {
    case notUTF8
    case syntax(String)

    public var description: String {
        switch self {
        case .notUTF8: return "not UTF-8 text"
        case .syntax(let why): return "invalid JSON: \(why)"
        }
    }
}
