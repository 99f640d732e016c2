import ArgumentParser
import ConvKitLab
import Foundation
import Hummingbird

struct Lab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the interactive lab: the course's widgets, computed by ConvKit, in your browser.",
        discussion: "Example: convkit lab   (then open the printed URL; --host 0.0.0.0 to share on your network)")
    @Option(help: "Address to bind (default: this machine only).") var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "Port (0: any free port; at most 65535).") var port = 8080

    func run() async throws {
        let app = try buildLabApplication(LabConfiguration(host: host, port: port)) { port in
            // Written unbuffered: the URL is the first line a script waiting for the server reads.
            FileHandle.standardOutput.write(Data("ConvKit lab: http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)/\n".utf8))
        }
        try await app.runService()
    }
}
