import Foundation

/// Where the shared queue lives (`queue:` in infill.yaml): a `postgresql://` URL.
///
/// `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`;
/// `postgres://` is accepted too, percent-escapes are decoded, the port defaults to 5432 and
/// `sslmode` to `prefer` (as libpq's). The password never appears in ``description``.
public struct QueueAddress: Sendable, Equatable, CustomStringConvertible {
    /// How TLS is used on the connection.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS or no connection.
        case require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// An address from its parts.
    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String, tls: TLSMode = .prefer) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses a URL; throws a one-line reason (without the password) when it is not one.
    public init(parsing text: String) throws(QueueAddressError) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let scheme = text.range(of: "://"), ["postgresql", "postgres"].contains(text[..<scheme.lowerBound].lowercased()) else {
            throw QueueAddressError("it must start with postgresql://")
        }
        guard let components = URLComponents(string: text) else {
            throw QueueAddressError("it is not a valid URL (escape special characters in the password as %XX)")
        }
        guard let host = components.host, !host.isEmpty else { throw QueueAddressError("it names no host") }
        guard let user = components.user, !user.isEmpty else { throw QueueAddressError("it names no user (postgresql://USER@HOST/DATABASE)") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else { throw QueueAddressError("it names no database (postgresql://USER@HOST/DATABASE)") }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else { throw QueueAddressError("unknown parameter '\(item.name)' (only sslmode is read)") }
            guard let mode = TLSMode(rawValue: item.value ?? "") else {
                throw QueueAddressError("sslmode must be disable, prefer or require, not '\(item.value ?? "")'")
            }
            tls = mode
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw QueueAddressError("the port must be between 1 and 65535") }
        self.init(
            host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port,
            user: components.percentEncodedUser?.removingPercentEncoding ?? user,
            password: components.percentEncodedPassword?.removingPercentEncoding,
            database: path.removingPercentEncoding ?? path, tls: tls)
    }

    /// `postgresql://USER@HOST:PORT/DATABASE`: the URL without its password, for logs and errors.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(shownHost):\(port)/\(database)" + (tls == .prefer ? "" : "?sslmode=\(tls.rawValue)")
    }
}

/// Why a `queue:` URL was refused.
public struct QueueAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    /// A refusal with its reason.
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
