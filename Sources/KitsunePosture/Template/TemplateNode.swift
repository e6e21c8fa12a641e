import Foundation
import Yams

/// A node of a CloudFormation/SAM template with its source line. Short-form intrinsics (`!Ref`, `!Sub`,
/// …) and long-form ones (`{"Ref": …}`, `{"Fn::GetAtt": …}`) are both read as `.intrinsic`.
public indirect enum TemplateNode: Sendable {
    case scalar(String, line: Int)
    case sequence([TemplateNode], line: Int)
    /// Pairs in document order, with the line of each key in `keyLines`.
    case mapping([(String, TemplateNode)], line: Int, keyLines: [Int])
    /// Function name in long form (`Ref`, `Fn::Sub`, `Condition`, …) and its argument.
    case intrinsic(String, TemplateNode, line: Int)

    public var line: Int {
        switch self {
        case .scalar(_, let l), .sequence(_, let l), .mapping(_, let l, _), .intrinsic(_, _, let l): return l
        }
    }

    public subscript(key: String) -> TemplateNode? {
        if case .mapping(let pairs, _, _) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    public var pairs: [(String, TemplateNode)] {
        if case .mapping(let pairs, _, _) = self { return pairs }
        return []
    }

    public var items: [TemplateNode]? {
        if case .sequence(let items, _) = self { return items }
        return nil
    }

    public var scalar: String? {
        if case .scalar(let s, _) = self { return s }
        return nil
    }

    /// Short-form tags and the long-form function each stands for.
    static let shortForms: [String: String] = [
        "!Ref": "Ref", "!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!If": "Fn::If", "!Join": "Fn::Join",
        "!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap",
        "!ImportValue": "Fn::ImportValue", "!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or",
        "!Not": "Fn::Not", "!Condition": "Condition", "!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr",
        "!GetAZs": "Fn::GetAZs", "!Transform": "Fn::Transform", "!Length": "Fn::Length",
        "!ToJsonString": "Fn::ToJsonString",
    ]

    /// Parses YAML or JSON template text. Errors name `path` and the line.
    public static func parse(_ text: String, path: String) throws -> TemplateNode {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw TemplateError(path: path, line: TemplateNode.line(of: error), problem: "not valid YAML/JSON: \(error)")
        } catch {
            throw TemplateError(path: path, line: nil, problem: "not valid YAML/JSON: \(error)")
        }
        guard let root else { throw TemplateError(path: path, line: nil, problem: "the file is empty") }
        return try convert(root, path: path, depth: 0)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default: return nil
        }
    }

    /// Nesting deeper than this is refused (no real template comes close; it guards the recursion).
    static let maximumDepth = 128

    private static func convert(_ node: Node, path: String, depth: Int) throws -> TemplateNode {
        let line = node.mark?.line ?? 0
        guard depth < maximumDepth else {
            throw TemplateError(path: path, line: line, problem: "nesting deeper than \(maximumDepth) levels")
        }
        let tag = node.tag.rawValue
        let plain: TemplateNode
        switch node {
        case .scalar(let scalar): plain = .scalar(scalar.string, line: line)
        case .sequence(let sequence): plain = .sequence(try sequence.map { try convert($0, path: path, depth: depth + 1) }, line: line)
        case .mapping(let mapping):
            var pairs: [(String, TemplateNode)] = []
            var keyLines: [Int] = []
            for (key, value) in mapping {
                keyLines.append(key.mark?.line ?? line)
                guard case .scalar(let k) = key else {
                    throw TemplateError(path: path, line: key.mark?.line, problem: "mapping keys must be plain strings")
                }
                pairs.append((k.string, try convert(value, path: path, depth: depth + 1)))
            }
            if pairs.count == 1, let (key, value) = pairs.first, key == "Ref" || key == "Condition" || key.hasPrefix("Fn::") {
                return .intrinsic(key, value, line: line)
            }
            plain = .mapping(pairs, line: line, keyLines: keyLines)
        case .alias:
            throw TemplateError(path: path, line: line, problem: "YAML aliases are not supported in CloudFormation templates")
        }
        if tag.hasPrefix("!") {
            guard let function = shortForms[tag] else {
                throw TemplateError(path: path, line: line, problem: "unknown tag \(tag) (not a CloudFormation intrinsic)")
            }
            if function == "Fn::GetAtt", case .scalar(let s, let l) = plain {
                // `!GetAtt Res.Attr` is the dotted form of `[Res, Attr]`.
                let parts = s.split(separator: ".", maxSplits: 1).map { TemplateNode.scalar(String($0), line: l) }
                return .intrinsic(function, .sequence(parts, line: l), line: line)
            }
            return .intrinsic(function, plain, line: line)
        }
        return plain
    }
}

/// A template that cannot be read: names the file, the line when known, and what is wrong.
public struct TemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var line: Int?
    public var problem: String

    public var description: String {
        "\(path)\(line.map { ":\($0)" } ?? ""): \(problem)"
    }
}
