/// Why a call between processes failed. The transport maps each case to a gRPC status and back.
public enum SNSError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The peer is down, unreachable, or has no live server to offer (gRPC `UNAVAILABLE`).
  case unavailable(String)
  /// The request is malformed (gRPC `INVALID_ARGUMENT`).
  case invalidArgument(String)
  /// The receiver is not master, or not master of this epoch (gRPC `FAILED_PRECONDITION`).
  case notMaster(String)
  /// A mirror or sync message from an older epoch (gRPC `ABORTED`).
  case staleEpoch(current: Epoch)
  /// Missing or wrong shared secret (gRPC `UNAUTHENTICATED`).
  case unauthenticated
  /// The call took longer than its deadline (gRPC `DEADLINE_EXCEEDED`).
  case deadlineExceeded
  /// Storage refused the write: disk full, I/O error, read-only (gRPC `INTERNAL`); nothing was acknowledged.
  case storage(String)

  public var description: String {
    switch self {
    case .unavailable(let why): "unavailable: \(why)"
    case .invalidArgument(let why): "invalid argument: \(why)"
    case .notMaster(let why): "not master: \(why)"
    case .staleEpoch(let current): "stale epoch (current is \(current))"
    case .unauthenticated: "unauthenticated"
    case .deadlineExceeded: "deadline exceeded"
    case .storage(let why): "storage error: \(why)"
    }
  }
}
