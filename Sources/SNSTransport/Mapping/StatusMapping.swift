import SNSCore

// SNSError ↔ gRPC status. The status code is what any gRPC client acts on; the trailing metadata says which
// core error it was (`sns-error`) and, for a stale epoch, the current epoch (`sns-epoch`), so that a program
// never parses the message, which is for people. A status without `sns-error` did not come from a Tiny SNS
// handler: the transport produced it (a reset connection, a local failure), and it is mapped as such.

/// The trailing metadata keys a Tiny SNS handler's error carries.
enum ErrorMetadata {
  static let kind = "sns-error"
  static let epoch = "sns-epoch"
}

extension SNSError: GRPCStatusConvertible {
  public var grpcStatus: GRPCStatus {
    let (code, message): (GRPCStatus.Code, String) =
      switch self {
      case .unavailable(let why): (.unavailable, why)
      case .invalidArgument(let why): (.invalidArgument, why)
      case .notMaster(let why): (.failedPrecondition, "not master: \(why)")
      case .staleEpoch(let current): (.aborted, "stale epoch: current=\(current.value)")
      case .unauthenticated: (.unauthenticated, "missing or wrong cluster secret")
      case .deadlineExceeded: (.deadlineExceeded, "deadline exceeded")
      case .storage(let why): (.internalError, "storage: \(why)")
      }
    var trailing = GRPCMetadata([(ErrorMetadata.kind, kindName)])
    if case .staleEpoch(let current) = self {
      trailing.pairs.append((ErrorMetadata.epoch, "\(current.value)"))
    }
    return GRPCStatus(code, message, trailingMetadata: trailing)
  }

  /// The value of `sns-error` for this error.
  var kindName: String {
    switch self {
    case .unavailable: "unavailable"
    case .invalidArgument: "invalid-argument"
    case .notMaster: "not-master"
    case .staleEpoch: "stale-epoch"
    case .unauthenticated: "unauthenticated"
    case .deadlineExceeded: "deadline-exceeded"
    case .storage: "storage"
    }
  }
}

extension ValidationError: GRPCStatusConvertible {
  public var grpcStatus: GRPCStatus { GRPCStatus(.invalidArgument, description) }
}

extension GRPCStatus {
  /// The core error a failed call means, so actors handle gRPC and in-memory failures alike.
  var snsError: SNSError {
    if let kind = trailingMetadata[ErrorMetadata.kind] {
      switch kind {
      case "unavailable": return .unavailable(message)
      case "invalid-argument": return .invalidArgument(message)
      case "not-master": return .notMaster(message)
      case "stale-epoch":
        if let value = trailingMetadata[ErrorMetadata.epoch].flatMap(UInt64.init) {
          return .staleEpoch(current: Epoch(value))
        }
        return .unavailable(message)
      case "unauthenticated": return .unauthenticated
      case "deadline-exceeded": return .deadlineExceeded
      case "storage": return .storage(message)
      default: break  // a kind this build does not know: the code decides
      }
    }
    return transportError
  }

  /// What a status means without a Tiny SNS error kind: the transport's own failures, or a peer that is not
  /// ours. None of them says that a write was refused, so none is final for a client: only a handler's
  /// `storage` error is.
  var transportError: SNSError {
    switch code {
    case .invalidArgument, .outOfRange: return .invalidArgument(message)
    case .failedPrecondition: return .notMaster(message)
    case .unauthenticated, .permissionDenied: return .unauthenticated
    case .deadlineExceeded: return .deadlineExceeded
    // A message over the transport's limit is a transport error, never a storage one.
    case .resourceExhausted: return .invalidArgument("over the transport's limits: \(message)")
    case .ok, .cancelled, .unknown, .notFound, .alreadyExists, .aborted, .unimplemented, .internalError,
      .unavailable, .dataLoss:
      return .unavailable("transport: \(message.isEmpty ? "\(code)" : message)")
    }
  }
}

/// Runs a client call, turning gRPC statuses into ``SNSError``s.
func translatingStatus<T>(_ body: () async throws -> T) async throws -> T {
  do {
    return try await body()
  } catch let status as GRPCStatus {
    throw status.snsError
  }
}
