import CGRPCCore
import Foundation
import Synchronization

/// Initialises gRPC core once per process. It is never shut down: gRPC's own shutdown runs
/// asynchronously and re-initialising it per server/channel only costs time.
enum GRPCRuntime {
  private static let initialized: Bool = {
    grpc_init()
    return true
  }()

  static func ensureInitialized() {
    _ = initialized
  }
}

/// The tag of one operation started on a completion queue. It is passed to gRPC retained
/// (`Unmanaged.passRetained`) and the queue thread takes that reference back when the event
/// arrives, so whatever the tag owns lives exactly as long as gRPC may touch it.
class CompletionTag: @unchecked Sendable {
  // @unchecked Sendable: one thread at a time uses a tag (starter, then queue thread via `handOff`).

  /// Publishes the tag's contents to the queue thread. gRPC's own locking already orders the
  /// hand-off, but it is invisible to Swift (and to ThreadSanitizer); this makes it explicit.
  private let handOff = Atomic<Bool>(false)

  /// Called once, on the completion queue's thread; must not block.
  func complete(success: Bool) {}

  /// The retained pointer to hand to gRPC. Balance with `releaseUnstarted()` if gRPC refuses it.
  final func retainedPointer() -> UnsafeMutableRawPointer {
    handOff.store(true, ordering: .releasing)
    return Unmanaged.passRetained(self).toOpaque()
  }

  /// Takes back the reference passed to gRPC and completes the tag (queue thread).
  fileprivate static func deliver(_ pointer: UnsafeMutableRawPointer, success: Bool) {
    let tag = Unmanaged<CompletionTag>.fromOpaque(pointer).takeRetainedValue()
    _ = tag.handOff.load(ordering: .acquiring)
    tag.complete(success: success)
  }

  /// Drops the reference passed to gRPC when the operation could not be started.
  static func releaseUnstarted(_ pointer: UnsafeMutableRawPointer) {
    Unmanaged<CompletionTag>.fromOpaque(pointer).release()
  }
}

/// A `grpc_completion_queue` with a dedicated thread blocked in `grpc_completion_queue_next`,
/// so Swift concurrency threads never block on gRPC.
final class CompletionQueue: @unchecked Sendable {
  // @unchecked Sendable: `queue` is immutable after init and gRPC's queue API is thread-safe;
  // mutable state lives in the Mutex.
  let queue: OpaquePointer
  private let state = Mutex<Bool>(false)  // shutdown started
  private let finished = Promise<Void>()

  init(name: String) {
    GRPCRuntime.ensureInitialized()
    guard let queue = grpc_completion_queue_create_for_next(nil) else {
      fatalError("grpc_completion_queue_create_for_next failed (out of memory)")
    }
    self.queue = queue
    // The thread keeps `self` alive until the queue has been drained and destroyed. It names itself: on
    // Linux a name set from outside never reaches the kernel's view of the thread (`/proc/…/comm`).
    let thread = Thread { [self] in
      Thread.current.name = name
      self.run()
    }
    thread.start()
  }

  private func run() {
    while true {
      let event = grpc_completion_queue_next(queue, sns_deadline_infinite(), nil)
      switch event.type {
      case GRPC_OP_COMPLETE:
        guard let tag = event.tag else { continue }
        CompletionTag.deliver(tag, success: event.success != 0)
      case GRPC_QUEUE_SHUTDOWN:
        grpc_completion_queue_destroy(queue)
        finished.fulfill(())
        return
      default:  // GRPC_QUEUE_TIMEOUT cannot happen with an infinite deadline.
        continue
      }
    }
  }

  /// Starts shutdown; the thread drains the remaining events, then destroys the queue.
  /// Only call once nothing will start new operations on the queue. Idempotent.
  func shutdown() {
    let first = state.withLock { started in
      defer { started = true }
      return !started
    }
    if first { grpc_completion_queue_shutdown(queue) }
  }

  /// Waits until the queue has been drained and destroyed (after `shutdown()`).
  func waitUntilFinished() async {
    await finished.value
  }
}

/// A value delivered once that any number of tasks can wait for.
final class Promise<Value: Sendable>: Sendable {
  private let state = Mutex<(value: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

  init() {}

  /// Delivers `value` to every waiter; later calls are ignored.
  func fulfill(_ value: Value) {
    let waiters: [CheckedContinuation<Value, Never>]? = state.withLock { state in
      guard state.value == nil else { return nil }
      state.value = value
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters ?? [] { waiter.resume(returning: value) }
  }

  /// The value if it has been delivered already.
  var current: Value? { state.withLock { $0.value } }

  var value: Value {
    get async {
      await withCheckedContinuation { (continuation: CheckedContinuation<Value, Never>) in
        let value = state.withLock { state in
          if state.value == nil { state.waiters.append(continuation) }
          return state.value
        }
        if let value { continuation.resume(returning: value) }
      }
    }
  }
}
