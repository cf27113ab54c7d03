import CGRPCCore
import Synchronization

/// One `grpc_call_start_batch`: owns the batch's C storage (ops, buffers, metadata arrays) until
/// the completion queue hands the tag back, then runs `onComplete` on the queue's thread.
final class BatchOperation: CompletionTag, @unchecked Sendable {
  // @unchecked Sendable: see CompletionTag; `call` is written once, before gRPC sees the tag.
  let storage: UnsafeMutablePointer<sns_batch>
  /// Set when started, so the call outlives every batch gRPC still holds.
  fileprivate var call: CallHandle?
  private let onComplete: @Sendable (BatchOperation, Bool) -> Void

  init(
    _ build: (UnsafeMutablePointer<sns_batch>) -> Void,
    onComplete: @escaping @Sendable (BatchOperation, Bool) -> Void
  ) {
    guard let storage = sns_batch_create() else { fatalError("sns_batch_create: out of memory") }
    self.storage = storage
    self.onComplete = onComplete
    build(storage)
  }

  deinit { sns_batch_destroy(storage) }

  override func complete(success: Bool) { onComplete(self, success) }

  /// The received message, or nil when the peer sent none (end of stream).
  var receivedMessage: [UInt8]? {
    storage.pointee.recv_message.flatMap { copyBytes(of: $0) }
  }

  /// The status received by RECV_STATUS_ON_CLIENT.
  var receivedStatus: GRPCStatus {
    GRPCStatus(
      rawCode: Int(storage.pointee.recv_status.rawValue),
      message: String(slice: storage.pointee.recv_status_details),
      trailingMetadata: GRPCMetadata(copying: storage.pointee.recv_trailing_metadata))
  }

  /// Whether RECV_CLOSE_ON_SERVER reported the call as cancelled (deadline, client cancel, reset).
  var wasCancelled: Bool { storage.pointee.cancelled != 0 }
}

/// Copies a received byte buffer's (decompressed) contents; nil if gRPC cannot read it.
func copyBytes(of buffer: UnsafeMutablePointer<grpc_byte_buffer>) -> [UInt8]? {
  let length = grpc_byte_buffer_length(buffer)
  var copied = -1
  let bytes = [UInt8](unsafeUninitializedCapacity: length) { destination, count in
    if let base = destination.baseAddress {
      copied = sns_byte_buffer_copy(buffer, base, length)
    } else {
      copied = 0
    }
    count = max(copied, 0)
  }
  return copied == length ? bytes : nil
}

extension grpc_call_error {
  /// E.g. "GRPC_CALL_ERROR_INVALID_METADATA".
  var name: String { grpc_call_error_to_string(self).map { String(cString: $0) } ?? "\(rawValue)" }
}

extension UnsafeMutablePointer<sns_batch> {
  func sendMessage(_ message: [UInt8]) {
    message.withUnsafeBytes { sns_batch_send_message(self, $0.baseAddress, $0.count) }
  }

  func sendStatus(_ status: GRPCStatus) {
    status.trailingMetadata.appendTrailing(to: self)
    var details = status.message
    details.withUTF8 { bytes in
      sns_batch_send_status(
        self, grpc_status_code(Int32(status.code.rawValue)), bytes.baseAddress, bytes.count)
    }
  }
}

/// A C object pointer stored in lock-protected state.
struct CPointer: @unchecked Sendable {
  // @unchecked Sendable: only dereferenced by gRPC's thread-safe API, under its owner's lock.
  let pointer: OpaquePointer
}

/// Whoever created a call; told when the last reference to it goes away.
protocol CallOwner: AnyObject, Sendable {
  /// Must `grpc_call_unref(call)`; runs exactly once per call.
  func releaseCall(id: UInt64, call: OpaquePointer)
}

/// A `grpc_call` plus the rules for starting batches on it. Every in-flight batch retains the
/// handle, so the call is unref'd (by its owner) only after gRPC returned all of its tags.
final class CallHandle: @unchecked Sendable {
  // @unchecked Sendable: `call` is immutable; every grpc_call_start_batch goes through `sendQueue`'s
  // lock (gRPC requires start_batch to be synchronised), and grpc_call_cancel is thread-safe.
  let call: OpaquePointer
  private let id: UInt64
  private let owner: any CallOwner
  /// Send batches are serialised: gRPC allows one SEND_MESSAGE in flight, and queueing keeps
  /// metadata, messages and close/status in the order they were requested.
  private let sendQueue = Mutex<(inFlight: Bool, pending: [BatchOperation])>((false, []))

  init(call: OpaquePointer, id: UInt64, owner: any CallOwner) {
    self.call = call
    self.id = id
    self.owner = owner
  }

  deinit { owner.releaseCall(id: id, call: call) }

  /// Starts `operation` now. If gRPC refuses (result other than GRPC_CALL_OK) the operation is
  /// dropped without completing.
  @discardableResult
  func start(_ operation: BatchOperation) -> grpc_call_error {
    sendQueue.withLock { _ in startLocked(operation) }
  }

  private func startLocked(_ operation: BatchOperation) -> grpc_call_error {
    operation.call = self
    let tag = operation.retainedPointer()
    let result = sns_batch_start(call, operation.storage, tag)
    if result != GRPC_CALL_OK { CompletionTag.releaseUnstarted(tag) }
    return result
  }

  /// Queues a batch of send operations behind the previous ones. Its `onComplete` runs as usual
  /// (with `success == false` if gRPC refused to start it).
  func enqueueSend(
    _ build: (UnsafeMutablePointer<sns_batch>) -> Void,
    onComplete: @escaping @Sendable (Bool) -> Void = { _ in }
  ) {
    let operation = BatchOperation(build) { [self] _, success in
      onComplete(success)
      sendFinished()
    }
    let refused: Bool = sendQueue.withLock { state in
      if state.inFlight {
        state.pending.append(operation)
        return false
      }
      state.inFlight = true
      return startLocked(operation) != GRPC_CALL_OK
    }
    if refused { operation.complete(success: false) }
  }

  private func sendFinished() {
    let refused: BatchOperation? = sendQueue.withLock { state in
      guard !state.pending.isEmpty else {
        state.inFlight = false
        return nil
      }
      let next = state.pending.removeFirst()
      return startLocked(next) == GRPC_CALL_OK ? nil : next
    }
    // A refused send completes as failed; its onComplete calls sendFinished for the next one.
    refused?.complete(success: false)
  }

  /// Sends a batch and waits for it; true when all its operations succeeded.
  func send(_ build: (UnsafeMutablePointer<sns_batch>) -> Void) async -> Bool {
    await withCheckedContinuation { continuation in
      enqueueSend(build) { continuation.resume(returning: $0) }
    }
  }

  /// Cancels the call (thread-safe; no effect once the call has completed).
  func cancel() { grpc_call_cancel(call, nil) }

  /// The peer address as gRPC reports it, e.g. "ipv4:127.0.0.1:50000".
  var peer: String {
    guard let raw = grpc_call_get_peer(call) else { return "" }
    defer { gpr_free(raw) }
    return String(cString: raw)
  }
}

/// Reads messages on demand (one RECV_MESSAGE per `next()`), so gRPC flow control applies.
final class MessageReader: Sendable {
  private let handle: CallHandle
  /// On the client, the call's final status; nil on the server.
  private let status: Promise<GRPCStatus>?
  private let finished = Mutex(false)

  init(handle: CallHandle, status: Promise<GRPCStatus>?) {
    self.handle = handle
    self.status = status
  }

  /// The next message; nil at a clean end of stream. Throws the call's non-OK status.
  func next() async throws -> [UInt8]? {
    if finished.withLock({ $0 }) { return nil }
    let handle = self.handle
    let (success, message) = await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<(Bool, [UInt8]?), Never>) in
        let operation = BatchOperation({ sns_batch_recv_message($0) }) { operation, success in
          guard success, operation.storage.pointee.recv_message != nil else {
            return continuation.resume(returning: (success, nil))
          }
          // A message that cannot be read (e.g. unknown compression) fails the stream.
          let message = operation.receivedMessage
          continuation.resume(returning: (message != nil, message))
        }
        if handle.start(operation) != GRPC_CALL_OK { continuation.resume(returning: (false, nil)) }
      }
    } onCancel: {
      handle.cancel()
    }
    if success, let message { return message }
    finished.withLock { $0 = true }
    guard let status else {
      // Server side: a clean half-close ends the stream, anything else means the call died.
      if success { return nil }
      throw GRPCStatus(.cancelled, "call was cancelled")
    }
    let final = await status.value
    if final.code == .ok {
      if success { return nil }
      throw GRPCStatus(.internalError, "receiving a message failed")
    }
    throw final
  }
}
