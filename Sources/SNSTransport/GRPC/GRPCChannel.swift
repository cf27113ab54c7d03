import CGRPCCore
import Synchronization

/// A client connection to one gRPC server ("host:port", HTTP/2 in plaintext or over TLS). Connects
/// lazily on the first call and reconnects as needed. Calls may be made concurrently from any task.
public final class GRPCChannel: Sendable {
  private let core: ChannelCore

  /// Creates a channel to `target` ("host:port"); nothing is connected until the first call.
  ///
  /// With `tls`, the connection uses TLS and verifies the server's certificate against
  /// `tls.trustRootsPEM` (see ``GRPCTLSConfiguration``); a failed handshake fails calls with
  /// `.unavailable`. Without it, the channel is plaintext.
  public init(target: String, tls: GRPCTLSConfiguration? = nil) {
    core = ChannelCore(target: target, tls: tls)
  }

  deinit { core.close() }

  /// Performs a unary call and returns the response message.
  ///
  /// Throws `GRPCStatus` on any non-OK status: e.g. `.unavailable` when nobody listens,
  /// `.deadlineExceeded` when `timeout` elapses, `.cancelled` if the calling task is cancelled.
  public func unary(
    method: String, request: [UInt8], metadata: GRPCMetadata = GRPCMetadata(), timeout: Duration? = nil
  ) async throws -> [UInt8] {
    let handle = try core.makeCall(method: method, timeout: timeout)
    return try await withTaskCancellationHandler {
      try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[UInt8], any Error>) in
        // One batch carries the whole call, so it costs a single completion-queue event.
        let operation = BatchOperation({ batch in
          metadata.append(to: batch)
          sns_batch_send_initial_metadata(batch)
          batch.sendMessage(request)
          sns_batch_send_close_from_client(batch)
          sns_batch_recv_initial_metadata(batch)
          sns_batch_recv_message(batch)
          sns_batch_recv_status_on_client(batch)
        }) { operation, _ in
          // RECV_STATUS_ON_CLIENT always yields a status, whatever `success` says.
          let status = operation.receivedStatus
          if status.code != .ok {
            continuation.resume(throwing: status)
          } else if let response = operation.receivedMessage {
            continuation.resume(returning: response)
          } else {
            continuation.resume(throwing: GRPCStatus(.internalError, "OK status without a response message"))
          }
        }
        let result = handle.start(operation)
        if result != GRPC_CALL_OK {
          // E.g. metadata with characters HTTP/2 does not allow.
          continuation.resume(throwing: GRPCStatus(.internalError, "gRPC refused the call: \(result.name)"))
        }
      }
    } onCancel: {
      handle.cancel()
    }
  }

  /// Opens a bidirectional stream. Send with `send`, finish sending with `closeSend`, and read
  /// the responses from `messages`, which ends (or throws) with the call's status.
  public func bidirectionalStream(
    method: String, metadata: GRPCMetadata = GRPCMetadata(), timeout: Duration? = nil
  ) async throws -> GRPCClientStream {
    GRPCClientStream(handle: try core.makeCall(method: method, timeout: timeout), metadata: metadata)
  }

  /// Cancels in-flight calls and releases the connection once they have ended. Idempotent;
  /// later calls fail with `.unavailable`. Also done on deinit.
  public func close() { core.close() }
}

/// Owns the `grpc_channel`, and tracks the channel's live calls so the channel is destroyed only
/// after the last of them has been unref'd. Its calls complete on the process's shared client
/// queues (``ClientQueues``): a process with many channels does not get a thread per channel.
final class ChannelCore: CallOwner, @unchecked Sendable {
  // @unchecked Sendable: `queue` is immutable and thread-safe; the channel pointer and call
  // registry are only touched under `state`'s lock.
  private struct State {
    var channel: CPointer?
    var closed = false
    var calls: [UInt64: CPointer] = [:]
    var nextID: UInt64 = 0
  }

  private let queue = ClientQueues.next()
  private let state: Mutex<State>
  /// Why calls fail when gRPC refused to create the channel at all.
  private let creationFailure: String?

  init(target: String, tls: GRPCTLSConfiguration? = nil) {
    // Never nil for plaintext: gRPC returns a "lame" channel that fails every call for bad
    // targets. A nil TLS channel (credentials refused) makes every call fail `.unavailable`.
    let channel: OpaquePointer? =
      if let tls {
        withOptionalCString(tls.trustRootsPEM) { roots in
          withOptionalCString(tls.certificateChainPEM) { chain in
            withOptionalCString(tls.privateKeyPEM) { key in
              withOptionalCString(tls.targetNameOverride) { name in
                sns_tls_channel_create(target, roots, chain, key, name)
              }
            }
          }
        }
      } else {
        sns_insecure_channel_create(target)
      }
    state = Mutex(State(channel: channel.map(CPointer.init)))
    creationFailure = channel == nil ? "gRPC refused the TLS credentials for \(target)" : nil
  }

  func makeCall(method: String, timeout: Duration?) throws -> CallHandle {
    let deadline = timeout.map { sns_deadline_after_nanos($0.nanoseconds) } ?? sns_deadline_infinite()
    var method = method
    let created: (CPointer, UInt64)? = method.withUTF8 { bytes in
      state.withLock { state in
        guard !state.closed, let channel = state.channel?.pointer else { return nil }
        // gRPC takes its own reference to the method slice (a static slice would be kept as is).
        let slice = grpc_slice_from_copied_buffer(bytes.baseAddress, bytes.count)
        defer { grpc_slice_unref(slice) }
        guard
          let call = grpc_channel_create_call(
            channel, nil, sns_propagate_defaults(), queue.queue, slice, nil, deadline, nil)
        else { return nil }
        state.nextID += 1
        state.calls[state.nextID] = CPointer(pointer: call)
        return (CPointer(pointer: call), state.nextID)
      }
    }
    guard let (call, id) = created else {
      throw GRPCStatus(.unavailable, creationFailure ?? "channel is closed")
    }
    return CallHandle(call: call.pointer, id: id, owner: self)
  }

  func releaseCall(id: UInt64, call: OpaquePointer) {
    state.withLock { state in
      state.calls[id] = nil
      grpc_call_unref(call)
      destroyIfIdleLocked(&state)
    }
  }

  func close() {
    state.withLock { state in
      guard !state.closed else { return }
      state.closed = true
      for call in state.calls.values { grpc_call_cancel(call.pointer, nil) }
      destroyIfIdleLocked(&state)
    }
  }

  private func destroyIfIdleLocked(_ state: inout State) {
    guard state.closed, state.calls.isEmpty, let channel = state.channel?.pointer else { return }
    state.channel = nil
    grpc_channel_destroy(channel)
  }
}

/// The completion queues every client channel of the process shares, each with its one thread, created on
/// first use and never shut down (like ``GRPCRuntime``): channels come and go, the queues stay.
enum ClientQueues {
  static let count = 2
  private static let queues: [CompletionQueue] = (0..<count).map {
    CompletionQueue(name: "grpc-client-cq-\($0)")
  }
  private static let turn = Atomic<Int>(0)

  /// The queue for a new channel, in turn.
  static func next() -> CompletionQueue {
    let index = turn.wrappingAdd(1, ordering: .relaxed).oldValue
    return queues[(index % count + count) % count]
  }
}

extension Duration {
  /// The duration in whole nanoseconds, saturating at Int64's range.
  var nanoseconds: Int64 {
    let (seconds, attoseconds) = components
    let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return seconds < 0 ? .min : .max }
    let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
    if overflow2 { return seconds < 0 ? .min : .max }
    return total
  }
}
