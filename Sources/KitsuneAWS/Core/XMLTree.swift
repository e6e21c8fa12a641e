import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element (IAM/STS query-protocol responses). Namespaces are ignored.
public struct XMLTree: Sendable, Equatable {
    public var name: String
    public var text: String
    public var children: [XMLTree]

    public init(name: String, text: String = "", children: [XMLTree] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    /// Parses `bytes`; throws a clear error for malformed XML.
    public static func parse(_ bytes: [UInt8]) throws -> XMLTree {
        let parser = XMLParser(data: Data(bytes))
        let builder = Builder()
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw XMLTreeError(detail: "malformed XML at line \(parser.lineNumber): \(reason)")
        }
        return root
    }

    /// The first direct child named `name`.
    public func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// Follows direct children by name (`tree.path("ListRolesResult", "Roles")`).
    public func path(_ names: String...) -> XMLTree? {
        var node: XMLTree? = self
        for name in names { node = node?.child(name) }
        return node
    }

    /// The text of the child `name`, nil when absent.
    public func string(_ name: String) -> String? { child(name)?.text }

    /// The first element named `name` anywhere below (depth first).
    public func first(_ name: String) -> XMLTree? {
        for child in children {
            if child.name == name { return child }
            if let found = child.first(name) { return found }
        }
        return nil
    }

    /// The `<member>` children (query-protocol lists).
    public var members: [XMLTree] { children.filter { $0.name == "member" } }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(XMLTree(name: local))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?) {
            guard var node = stack.popLast() else { return }
            if !node.children.isEmpty { node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
        }
    }
}

/// Malformed XML.
public struct XMLTreeError: Error, Sendable, CustomStringConvertible {
    public let detail: String
    public var description: String { detail }
}
