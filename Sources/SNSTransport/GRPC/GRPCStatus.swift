/// The outcome of a gRPC call: a canonical status code plus a human-readable message.
///
/// Thrown by client calls on any non-OK status; thrown by server handlers to send that status.
public struct GRPCStatus: Error, Sendable, Equatable, CustomStringConvertible {
  /// The canonical gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
  public enum Code: Int, Sendable {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
      permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented,
      internalError, unavailable, dataLoss, unauthenticated
  }

  /// The status code.
  public var code: Code
  /// The status message (`grpc-message`); empty when none was sent.
  public var message: String
  /// Trailing metadata sent with the status: what a program reads instead of the message's text.
  public var trailingMetadata: GRPCMetadata

  /// Creates a status with `code`, an optional `message` and trailing metadata.
  public init(_ code: Code, _ message: String = "", trailingMetadata: GRPCMetadata = GRPCMetadata()) {
    self.code = code
    self.message = message
    self.trailingMetadata = trailingMetadata
  }

  /// Equal code and message; trailing metadata is not compared (it is what programs read, beside them).
  public static func == (lhs: GRPCStatus, rhs: GRPCStatus) -> Bool {
    lhs.code == rhs.code && lhs.message == rhs.message
  }

  /// `GRPCStatus(.ok)`.
  public static let ok = GRPCStatus(.ok)

  /// E.g. `deadlineExceeded (4): Deadline Exceeded`.
  public var description: String {
    message.isEmpty ? "\(code) (\(code.rawValue))" : "\(code) (\(code.rawValue)): \(message)"
  }

  /// Maps a raw wire code; codes outside the canonical range become `.unknown`, as the spec says.
  init(rawCode: Int, message: String, trailingMetadata: GRPCMetadata = GRPCMetadata()) {
    self.init(Code(rawValue: rawCode) ?? .unknown, message, trailingMetadata: trailingMetadata)
  }

  /// The status a server sends for an error thrown by a handler.
  init(from error: any Error) {
    if let status = error as? GRPCStatus {
      self = status
    } else if let convertible = error as? any GRPCStatusConvertible {
      self = convertible.grpcStatus
    } else if error is CancellationError {
      self.init(.cancelled, "handler cancelled")
    } else {
      self.init(.unknown, String(describing: error))
    }
  }
}

/// Errors thrown by server handlers that conform to this are sent with their status; any other
/// error becomes `.unknown` with its description.
public protocol GRPCStatusConvertible: Error {
  /// The status to send to the client for this error.
  var grpcStatus: GRPCStatus { get }
}

/// Failures of the transport itself, as opposed to a call's status.
public enum GRPCTransportError: Error, CustomStringConvertible {
  /// The server could not listen on the requested address.
  case bindFailed(String)
  /// gRPC core refused to create a resource (server, channel, call or completion queue).
  case resourceCreationFailed(String)
  /// The TLS material given to a server is incomplete or unusable.
  case invalidTLSConfiguration(String)

  /// A message suitable for logs and error output.
  public var description: String {
    switch self {
    case .bindFailed(let message): "gRPC bind failed: \(message)"
    case .resourceCreationFailed(let message): "gRPC resource creation failed: \(message)"
    case .invalidTLSConfiguration(let message): "gRPC TLS configuration invalid: \(message)"
    }
  }
}
