/// Where the daemon's HTTP endpoint listens (`http:` in infill.yaml): a host and a TCP port, or
/// a Unix socket.
///
/// Written `127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`, or a bare port (`9464`), which means
/// the IPv4 loopback. Port 0 asks the kernel for a free port (the log says which). `unix:PATH`
/// listens on a Unix socket instead, which keeps the systemd unit's `PrivateNetwork=yes`.
public struct HTTPAddress: Sendable, Equatable, CustomStringConvertible {
    /// The address to bind: an IP literal (IPv6 without brackets) or a host name.
    public var host: String
    public var port: Int
    /// A Unix socket's path; when set, ``host`` and ``port`` are unused.
    public var unixSocket: String?

    /// The endpoint's usual port (the Prometheus exporters' range).
    public static let defaultPort = 9464

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// A Unix socket at `path`.
    public init(unixSocket path: String) {
        self.host = "localhost"
        self.port = 0
        self.unixSocket = path
    }

    /// Parses `HOST:PORT`, `[IPV6]:PORT` or `PORT`; nil when it is none of these or the port is
    /// out of range.
    public init?(parsing text: String) {
        let text = text.strippingBlanks()
        guard !text.isEmpty else { return nil }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            // sun_path holds 108 bytes with the terminating NUL.
            guard !path.isEmpty, path.utf8.count < 108, !path.hasSuffix("/") else { return nil }
            self.init(unixSocket: path)
            return
        }
        var host = "127.0.0.1"
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            // An IPv6 address must be bracketed: `[::1]:9464`.
            guard !host.contains(":") else { return nil }
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, host.allSatisfy({ !$0.isWhitespace }),
              !portText.isEmpty, portText.allSatisfy(\.isASCIIDigit), portText.count <= 5,
              let port = Int(portText), (0...65535).contains(port)
        else { return nil }
        self.init(host: host, port: port)
    }

    /// True for 127.0.0.0/8, `::1` and `localhost`: reachable from this machine only.
    public var isLoopback: Bool {
        unixSocket != nil || host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `127.0.0.1:9464`, `[::1]:9464`, `unix:/run/infill/http.sock`.
    public var description: String {
        if let unixSocket { return "unix:" + unixSocket }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    fileprivate func strippingBlanks() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
