import SNSCore

// SNSError ↔ gRPC status. The status code carries the kind; the message carries the detail
// (and, for a stale epoch, the current epoch as `current=N`).

extension SNSError: GRPCStatusConvertible {
  public var grpcStatus: GRPCStatus {
    switch self {
    case .unavailable(let why): GRPCStatus(.unavailable, why)
    case .invalidArgument(let why): GRPCStatus(.invalidArgument, why)
    case .notMaster(let why): GRPCStatus(.failedPrecondition, "not master: \(why)")
    case .staleEpoch(let current): GRPCStatus(.aborted, "stale epoch: current=\(current.value)")
    case .unauthenticated: GRPCStatus(.unauthenticated, "missing or wrong cluster secret")
    case .deadlineExceeded: GRPCStatus(.deadlineExceeded, "deadline exceeded")
    case .storage(let why): GRPCStatus(.internalError, "storage: \(why)")
    }
  }
}

extension ValidationError: GRPCStatusConvertible {
  public var grpcStatus: GRPCStatus { GRPCStatus(.invalidArgument, description) }
}

extension GRPCStatus {
  /// The core error a failed call means, so actors handle gRPC and in-memory failures alike.
  var snsError: SNSError {
    switch code {
    case .invalidArgument, .outOfRange: return .invalidArgument(message)
    case .failedPrecondition: return .notMaster(message)
    case .aborted:
      if let range = message.range(of: "current="), let value = UInt64(message[range.upperBound...]) {
        return .staleEpoch(current: Epoch(value))
      }
      return .unavailable(message)
    case .unauthenticated, .permissionDenied: return .unauthenticated
    case .deadlineExceeded: return .deadlineExceeded
    // A message over the transport's limit is a transport error, never a storage one.
    case .resourceExhausted: return .invalidArgument("over the transport's limits: \(message)")
    case .internalError, .dataLoss: return .storage(message)
    case .ok, .cancelled, .unknown, .notFound, .alreadyExists, .unimplemented, .unavailable:
      return .unavailable(message.isEmpty ? "\(code)" : message)
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
