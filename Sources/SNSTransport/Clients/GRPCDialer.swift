import Logging
import SNSCore
import Synchronization

/// Options every outgoing call of a process shares.
public struct CallOptions: Sendable {
  /// Deadline of each unary call.
  public var timeout: Duration
  /// The cluster secret sent with internal calls (`x-sns-secret`), if the deployment has one.
  public var secret: String?
  /// TLS for every channel (the trusted CA, and a client certificate for mutual TLS); nil: plaintext.
  public var tls: GRPCTLSConfiguration?

  /// Options with a per-call `timeout`, an optional cluster `secret` and optional client `tls`.
  public init(timeout: Duration = .seconds(5), secret: String? = nil, tls: GRPCTLSConfiguration? = nil) {
    self.timeout = timeout
    self.secret = secret
    self.tls = tls
  }

  var metadata: GRPCMetadata {
    guard let secret else { return GRPCMetadata() }
    return GRPCMetadata([(SecretCheck.metadataKey, secret)])
  }
}

/// The ``Dialer`` of a deployed process: one gRPC channel per address, opened lazily and kept.
public final class GRPCDialer: Dialer {
  let options: CallOptions
  let channels = Mutex<[Endpoint: GRPCChannel]>([:])

  public init(options: CallOptions = CallOptions()) {
    self.options = options
  }

  func channel(to endpoint: Endpoint) -> GRPCChannel {
    channels.withLock { channels in
      if let channel = channels[endpoint] { return channel }
      let channel = GRPCChannel(target: endpoint.description, tls: options.tls)
      channels[endpoint] = channel
      return channel
    }
  }

  /// The coordinator at `endpoint`.
  public func coordinator(at endpoint: Endpoint) -> any CoordinatorPort {
    GRPCCoordinatorClient(channel: channel(to: endpoint), options: options)
  }

  public func client(at endpoint: Endpoint) -> any ClientPort {
    GRPCServerClient(channel: channel(to: endpoint), options: options)
  }

  public func serverPeer(at endpoint: Endpoint) -> any ServerPeerPort {
    GRPCServerClient(channel: channel(to: endpoint), options: options)
  }

  public func synchronizer(at endpoint: Endpoint) -> any SynchronizerPort {
    GRPCSynchronizerClient(channel: channel(to: endpoint), options: options)
  }

  /// Closes every channel (at process exit).
  public func close() {
    let all = channels.withLock { channels in
      defer { channels = [:] }
      return Array(channels.values)
    }
    for channel in all { channel.close() }
  }
}

extension GRPCChannel {
  /// One unary call of an SNS port: the process's metadata (secret) and deadline, statuses as ``SNSError``s.
  func call<Request: SwiftProtobufMessage, Response: SwiftProtobufMessage>(
    _ options: CallOptions, _ method: String, _ request: Request, _ type: Response.Type = Response.self
  ) async throws -> Response {
    try await translatingStatus {
      try await unary(
        method: method, request: request, responseType: type, metadata: options.metadata,
        timeout: options.timeout)
    }
  }
}
