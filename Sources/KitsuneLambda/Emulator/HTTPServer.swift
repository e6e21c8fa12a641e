import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the server saw on a connection during one poll round.
enum HTTPServerEvent {
    case request(connection: Int, HTTPRequest)
    /// The request was refused with `status` (the connection was answered and closed);
    /// `path` is the request's path when its request line could be read.
    case refused(connection: Int, status: Int, message: String, path: String?)
    case closed(connection: Int)
}

/// A small non-blocking HTTP/1.1 server on 127.0.0.1, driven by the caller's `poll` loop.
/// Keep-alive, chunked bodies and a body size limit; every response leaves in one `send`
/// with `TCP_NODELAY` set.
final class HTTPServer {
    private struct Connection {
        var fd: Int32
        var input: [UInt8] = []
        var output: [UInt8] = []
        var closeAfterWrite = false
        var keepAlive = true
    }

    let port: UInt16
    private let listenFD: Int32
    private var connections: [Int: Connection] = [:]
    private var nextID = 1
    private let parser: HTTPRequestParser

    /// Binds 127.0.0.1:`port` (a free port when `nil`).
    init(port requested: UInt16?, maxBodyBytes: Int) throws(EmulatorError) {
        parser = HTTPRequestParser(maxBodyBytes: maxBodyBytes)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket: \(errnoText(errno))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = (requested ?? 0).bigEndian
        addr.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let err = errno
            close(fd)
            throw .portUnavailable(requested ?? 0, errnoText(err))
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listenFD = fd
        port = UInt16(bigEndian: actual.sin_port)
    }

    deinit {
        for c in connections.values { close(c.fd) }
        close(listenFD)
    }

    /// The descriptors to poll, tagged with the connection id (0 = listener).
    func pollEntries() -> [(id: Int, pfd: pollfd)] {
        var out = [(id: 0, pfd: pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))]
        for (id, c) in connections {
            var events = Int16(POLLIN)
            if !c.output.isEmpty { events |= Int16(POLLOUT) }
            out.append((id, pollfd(fd: c.fd, events: events, revents: 0)))
        }
        return out
    }

    /// Handles readiness reported by `poll` for entry `id`.
    func handle(id: Int, revents: Int16) -> [HTTPServerEvent] {
        if id == 0 { acceptAll(); return [] }
        guard connections[id] != nil else { return [] }
        if revents & Int16(POLLOUT) != 0 { flush(id) }
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { return readAll(id) }
        return []
    }

    /// Queues `response` on connection `id` and tries to send it at once.
    func send(_ response: HTTPResponse, on id: Int) {
        guard var c = connections[id] else { return }
        c.output.append(contentsOf: response.serialized(keepAlive: c.keepAlive))
        if !c.keepAlive { c.closeAfterWrite = true }
        connections[id] = c
        flush(id)
    }

    /// Whether connection `id` is still open.
    func isOpen(_ id: Int) -> Bool { connections[id] != nil }

    /// Closes every client connection (used when the sandbox is torn down).
    func closeAllConnections() {
        for c in connections.values { close(c.fd) }
        connections.removeAll()
    }

    private func acceptAll() {
        while true {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            connections[nextID] = Connection(fd: fd)
            nextID += 1
        }
    }

    private func readAll(_ id: Int) -> [HTTPServerEvent] {
        guard var c = connections[id] else { return [] }
        var chunk = [UInt8](repeating: 0, count: 65536)
        var eof = false
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { c.input.append(contentsOf: chunk[0..<n]); continue }
            if n == 0 { eof = true }
            else if errno == EINTR { continue }
            else if errno != EAGAIN && errno != EWOULDBLOCK { eof = true }
            break
        }
        var events: [HTTPServerEvent] = []
        parsing: while !c.closeAfterWrite {
            switch parser.parse(c.input) {
            case .needMore: break parsing
            case .request(let request, let consumed):
                c.input.removeFirst(consumed)
                c.keepAlive = request.keepAlive
                events.append(.request(connection: id, request))
                if !request.keepAlive { break parsing }
            case .failure(let status, let message):
                let path = HTTPRequestParser.requestPath(c.input)
                c.input.removeAll()
                c.keepAlive = false
                connections[id] = c
                send(HTTPResponse.error(status, type: "InvalidRequest", message: message), on: id)
                events.append(.refused(connection: id, status: status, message: message, path: path))
                return events
            }
        }
        connections[id] = c
        if eof {
            // The peer is gone: answers still queued for it cannot be delivered.
            close(c.fd)
            connections[id] = nil
            events.append(.closed(connection: id))
        }
        return events
    }

    private func flush(_ id: Int) {
        guard var c = connections[id] else { return }
        while !c.output.isEmpty {
            let n = c.output.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { c.output.removeFirst(n); continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { connections[id] = c; return }
            close(c.fd); connections[id] = nil; return
        }
        if c.closeAfterWrite { close(c.fd); connections[id] = nil; return }
        connections[id] = c
    }
}
