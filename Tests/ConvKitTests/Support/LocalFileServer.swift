import ConvKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.0 server on 127.0.0.1 for testing downloads without the internet:
/// serves `files` by path, 404 otherwise, one connection at a time on its own thread. Paths in
/// `interrupted` announce their full length but close the connection halfway (a dropped transfer).
final class LocalFileServer: @unchecked Sendable {
    let port: Int
    private let socketFD: Int32
    private let files: [String: [UInt8]]
    private let interrupted: Set<String>
    private let lock = NSLock()
    private var requests: [String] = []

    /// The paths requested so far.
    var requestedPaths: [String] { lock.withLock { requests } }

    init(files: [String: [UInt8]], interrupted: Set<String> = []) throws {
        self.files = files
        self.interrupted = interrupted
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        socketFD = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0  // any free port
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw ConvKitError.io(path: "127.0.0.1", message: "cannot listen") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in serve() }.start()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    private func serve() {
        while true {
            let client = accept(socketFD, nil, nil)
            guard client >= 0 else { return }
            var request = [UInt8](repeating: 0, count: 4096)
            let n = read(client, &request, request.count)
            let line = String(decoding: request.prefix(Swift.max(n, 0)), as: UTF8.self).split(separator: "\r\n").first ?? ""
            let path = line.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            lock.withLock { requests.append(path) }
            let body = files[path]
            let head = body == nil ? "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                : "HTTP/1.0 200 OK\r\nContent-Length: \(body!.count)\r\nContent-Type: application/octet-stream\r\n\r\n"
            let sentBody = interrupted.contains(path) ? Array((body ?? []).prefix((body?.count ?? 0) / 2)) : (body ?? [])
            let response = Array(head.utf8) + sentBody
            var sent = 0
            while sent < response.count {
                let w = response[sent...].withUnsafeBufferPointer { write(client, $0.baseAddress, $0.count) }
                if w <= 0 { break }
                sent += w
            }
            close(client)
        }
    }

    deinit { close(socketFD) }
}
