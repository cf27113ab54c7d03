import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// Answers `GET /metrics` with the Prometheus text of a registry, over swift-nio's HTTP/1.1 server on an
/// event loop of its own, so a slow scraper never holds up the service's threads.
final class MetricsListener: Sendable {
  /// The port actually bound (useful with port 0).
  let port: Int
  private let group: MultiThreadedEventLoopGroup
  private let channel: any Channel

  struct ListenError: Error, CustomStringConvertible {
    let description: String
  }

  /// Binds `host:port` and starts answering.
  init(host: String, port: Int, registry: PrometheusCollectorRegistry) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 16)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
          try channel.pipeline.syncOperations.addHandler(MetricsHandler(registry: registry))
        }
      }
    do {
      channel = try await bootstrap.bind(host: host, port: port).get()
    } catch {
      try? await group.shutdownGracefully()
      throw ListenError(description: "\(host):\(port): \(error)")
    }
    self.port = channel.localAddress?.port ?? port
    self.group = group
  }

  /// Stops accepting, closes the listener and ends its event loop.
  func stop() async {
    try? await channel.close()
    try? await group.shutdownGracefully()
  }
}

/// One connection's requests: `GET /metrics` gets the registry's text, any other path 404, any other method
/// 405. Keep-alive is honoured as the client asks.
private final class MetricsHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let registry: PrometheusCollectorRegistry
  private var head: HTTPRequestHead?

  init(registry: PrometheusCollectorRegistry) {
    self.registry = registry
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): self.head = head
    case .body: break  // a scrape has no body; anything sent is ignored
    case .end:
      guard let head else { return }
      self.head = nil
      respond(to: head, context: context)
    }
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    let (status, contentType, body): (HTTPResponseStatus, String, [UInt8]) =
      if head.method != .GET {
        (.methodNotAllowed, "text/plain", Array("GET /metrics only\n".utf8))
      } else if path == "/metrics" {
        (.ok, "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
      } else {
        (.notFound, "text/plain", Array("try /metrics\n".utf8))
      }
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: contentType)
    headers.add(name: "Content-Length", value: "\(body.count)")
    let keepAlive = head.isKeepAlive
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
      promise: nil)
    context.write(
      wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
    let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
    guard !keepAlive else { return }
    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
    written.whenComplete { _ in bound.value.close(promise: nil) }
  }
}
