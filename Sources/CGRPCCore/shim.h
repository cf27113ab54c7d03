#ifndef TINYSNS_CGRPCCORE_SHIM_H
#define TINYSNS_CGRPCCORE_SHIM_H
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
// No <stdlib.h>/<string.h>: they drag in <sys/select.h>, whose fd_set then clashes with
// SwiftGlibc's ("__fds_bits ... not present in definition of fd_set"). gpr_* allocation and
// compiler builtins do the same job.

// Helpers for the Swift gRPC layer (Sources/SNSTransport/GRPC). Swift cannot expand the
// function-like macros of the gRPC headers, and doing the batch bookkeeping here keeps every
// batch to one allocation and keeps the ownership rules next to the C API they follow.

// MARK: - Slices

static inline const uint8_t *sns_slice_start_ptr(const grpc_slice *slice) {
  return GRPC_SLICE_START_PTR(*slice);
}

static inline size_t sns_slice_length(const grpc_slice *slice) {
  return GRPC_SLICE_LENGTH(*slice);
}

static inline uint32_t sns_propagate_defaults(void) { return GRPC_PROPAGATE_DEFAULTS; }

// MARK: - Deadlines

static inline gpr_timespec sns_deadline_infinite(void) {
  return gpr_inf_future(GPR_CLOCK_REALTIME);
}

/// A monotonic deadline `nanos` from now (gRPC converts it to the wire timeout).
static inline gpr_timespec sns_deadline_after_nanos(int64_t nanos) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_nanos(nanos, GPR_TIMESPAN));
}

// MARK: - Byte buffers

/// Copies `len` bytes into a new single-slice byte buffer; the caller owns the buffer.
static inline grpc_byte_buffer *sns_byte_buffer_create(const void *bytes, size_t len) {
  grpc_slice slice = grpc_slice_from_copied_buffer((const char *)bytes, len);
  grpc_byte_buffer *buffer = grpc_raw_byte_buffer_create(&slice, 1);
  grpc_slice_unref(slice);  // the buffer took its own reference
  return buffer;
}

/// Copies the (decompressed) contents of `buffer` to `dst`, which must hold
/// grpc_byte_buffer_length(buffer) bytes. Returns the number of bytes copied, or -1.
static inline long sns_byte_buffer_copy(grpc_byte_buffer *buffer, uint8_t *dst, size_t capacity) {
  grpc_byte_buffer_reader reader;
  if (!grpc_byte_buffer_reader_init(&reader, buffer)) return -1;
  size_t offset = 0;
  grpc_slice slice;
  while (grpc_byte_buffer_reader_next(&reader, &slice)) {
    size_t len = GRPC_SLICE_LENGTH(slice);
    if (offset + len > capacity) {
      grpc_slice_unref(slice);
      grpc_byte_buffer_reader_destroy(&reader);
      return -1;
    }
    __builtin_memcpy(dst + offset, GRPC_SLICE_START_PTR(slice), len);
    offset += len;
    grpc_slice_unref(slice);
  }
  grpc_byte_buffer_reader_destroy(&reader);
  return (long)offset;
}

// MARK: - Batches

/// Metadata pairs to send, grown as they are added; the slices are owned by the list.
typedef struct {
  grpc_metadata *items;
  size_t count;
  size_t capacity;
} sns_metadata_list;

/// Everything one grpc_call_start_batch needs to keep alive until its tag completes.
/// Created by sns_batch_create, filled by the sns_batch_* op helpers, released by
/// sns_batch_destroy after the completion queue returned the batch's tag.
typedef struct {
  grpc_op ops[8];
  size_t nops;
  sns_metadata_list send_metadata;
  sns_metadata_list send_trailing_metadata;
  grpc_byte_buffer *send_message;
  grpc_slice send_status_details;
  grpc_metadata_array recv_initial_metadata;
  grpc_metadata_array recv_trailing_metadata;
  grpc_byte_buffer *recv_message;
  grpc_status_code recv_status;
  grpc_slice recv_status_details;
  int cancelled;
} sns_batch;

static inline sns_batch *sns_batch_create(void) {
  sns_batch *b = (sns_batch *)gpr_zalloc(sizeof(sns_batch));
  if (b == NULL) return NULL;
  grpc_metadata_array_init(&b->recv_initial_metadata);
  grpc_metadata_array_init(&b->recv_trailing_metadata);
  b->send_status_details = grpc_empty_slice();
  b->recv_status_details = grpc_empty_slice();
  b->recv_status = GRPC_STATUS_UNKNOWN;
  return b;
}

static inline void sns_metadata_list_destroy(sns_metadata_list *list) {
  for (size_t i = 0; i < list->count; i++) {
    grpc_slice_unref(list->items[i].key);
    grpc_slice_unref(list->items[i].value);
  }
  gpr_free(list->items);
}

static inline void sns_batch_destroy(sns_batch *b) {
  sns_metadata_list_destroy(&b->send_metadata);
  sns_metadata_list_destroy(&b->send_trailing_metadata);
  if (b->send_message) grpc_byte_buffer_destroy(b->send_message);
  grpc_slice_unref(b->send_status_details);
  grpc_metadata_array_destroy(&b->recv_initial_metadata);
  grpc_metadata_array_destroy(&b->recv_trailing_metadata);
  if (b->recv_message) grpc_byte_buffer_destroy(b->recv_message);
  grpc_slice_unref(b->recv_status_details);
  gpr_free(b);
}

static inline grpc_op *sns_batch_next_op(sns_batch *b, grpc_op_type type) {
  grpc_op *op = &b->ops[b->nops++];
  __builtin_memset(op, 0, sizeof(*op));
  op->op = type;
  return op;
}

static inline int sns_metadata_list_add(sns_metadata_list *list, const char *key, size_t key_len,
                                        const char *value, size_t value_len) {
  if (list->count == list->capacity) {
    size_t capacity = list->capacity ? list->capacity * 2 : 4;
    grpc_metadata *grown = (grpc_metadata *)gpr_realloc(list->items, capacity * sizeof(grpc_metadata));
    if (grown == NULL) return 0;
    list->items = grown;
    list->capacity = capacity;
  }
  grpc_metadata *md = &list->items[list->count++];
  __builtin_memset(md, 0, sizeof(*md));
  md->key = grpc_slice_from_copied_buffer(key, key_len);
  md->value = grpc_slice_from_copied_buffer(value, value_len);
  return 1;
}

/// Appends one metadata pair for the batch's SEND_INITIAL_METADATA. Returns 0 on allocation failure.
static inline int sns_batch_add_metadata(sns_batch *b, const char *key, size_t key_len,
                                         const char *value, size_t value_len) {
  return sns_metadata_list_add(&b->send_metadata, key, key_len, value, value_len);
}

/// Appends one metadata pair for the trailing metadata of the batch's SEND_STATUS_FROM_SERVER. Returns 0
/// on allocation failure.
static inline int sns_batch_add_trailing_metadata(sns_batch *b, const char *key, size_t key_len,
                                                  const char *value, size_t value_len) {
  return sns_metadata_list_add(&b->send_trailing_metadata, key, key_len, value, value_len);
}

static inline void sns_batch_send_initial_metadata(sns_batch *b) {
  grpc_op *op = sns_batch_next_op(b, GRPC_OP_SEND_INITIAL_METADATA);
  op->data.send_initial_metadata.count = b->send_metadata.count;
  op->data.send_initial_metadata.metadata = b->send_metadata.items;
}

static inline void sns_batch_send_message(sns_batch *b, const void *bytes, size_t len) {
  b->send_message = sns_byte_buffer_create(bytes, len);
  grpc_op *op = sns_batch_next_op(b, GRPC_OP_SEND_MESSAGE);
  op->data.send_message.send_message = b->send_message;
}

static inline void sns_batch_send_close_from_client(sns_batch *b) {
  sns_batch_next_op(b, GRPC_OP_SEND_CLOSE_FROM_CLIENT);
}

static inline void sns_batch_send_status(sns_batch *b, grpc_status_code status,
                                         const char *details, size_t details_len) {
  grpc_slice_unref(b->send_status_details);
  b->send_status_details = grpc_slice_from_copied_buffer(details, details_len);
  grpc_op *op = sns_batch_next_op(b, GRPC_OP_SEND_STATUS_FROM_SERVER);
  op->data.send_status_from_server.trailing_metadata_count = b->send_trailing_metadata.count;
  op->data.send_status_from_server.trailing_metadata = b->send_trailing_metadata.items;
  op->data.send_status_from_server.status = status;
  op->data.send_status_from_server.status_details = details_len ? &b->send_status_details : NULL;
}

static inline void sns_batch_recv_initial_metadata(sns_batch *b) {
  grpc_op *op = sns_batch_next_op(b, GRPC_OP_RECV_INITIAL_METADATA);
  op->data.recv_initial_metadata.recv_initial_metadata = &b->recv_initial_metadata;
}

static inline void sns_batch_recv_message(sns_batch *b) {
  grpc_op *op = sns_batch_next_op(b, GRPC_OP_RECV_MESSAGE);
  op->data.recv_message.recv_message = &b->recv_message;
}

static inline void sns_batch_recv_status_on_client(sns_batch *b) {
  grpc_op *op = sns_batch_next_op(b, GRPC_OP_RECV_STATUS_ON_CLIENT);
  op->data.recv_status_on_client.trailing_metadata = &b->recv_trailing_metadata;
  op->data.recv_status_on_client.status = &b->recv_status;
  op->data.recv_status_on_client.status_details = &b->recv_status_details;
  op->data.recv_status_on_client.error_string = NULL;
}

static inline void sns_batch_recv_close_on_server(sns_batch *b) {
  grpc_op *op = sns_batch_next_op(b, GRPC_OP_RECV_CLOSE_ON_SERVER);
  op->data.recv_close_on_server.cancelled = &b->cancelled;
}

static inline grpc_call_error sns_batch_start(grpc_call *call, sns_batch *b, void *tag) {
  return grpc_call_start_batch(call, b->ops, b->nops, tag, NULL);
}

// MARK: - Server

/// Storage for one posted grpc_server_request_call or grpc_server_request_registered_call.
typedef struct {
  grpc_call *call;
  grpc_call_details details;     // generic requests only
  gpr_timespec deadline;         // registered requests only
  grpc_metadata_array metadata;
  grpc_byte_buffer *payload;     // registered requests that read the request up front
} sns_request;

static inline sns_request *sns_request_create(void) {
  sns_request *r = (sns_request *)gpr_zalloc(sizeof(sns_request));
  grpc_call_details_init(&r->details);
  grpc_metadata_array_init(&r->metadata);
  return r;
}

/// Frees the request storage; the call itself (if any) was handed over and is not touched.
static inline void sns_request_destroy(sns_request *r) {
  grpc_call_details_destroy(&r->details);
  grpc_metadata_array_destroy(&r->metadata);
  if (r->payload) grpc_byte_buffer_destroy(r->payload);
  gpr_free(r);
}

static inline grpc_call_error sns_request_post(grpc_server *server, sns_request *r,
                                               grpc_completion_queue *cq, void *tag) {
  return grpc_server_request_call(server, &r->call, &r->details, &r->metadata, cq, cq, tag);
}

/// Registers `method` (gRPC copies the string). With `read_payload`, calls to it arrive with
/// their first message already read, which saves a batch per unary call.
static inline void *sns_server_register_method(grpc_server *server, const char *method,
                                               int read_payload) {
  return grpc_server_register_method(
      server, method, NULL,
      read_payload ? GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER : GRPC_SRM_PAYLOAD_NONE, 0);
}

static inline grpc_call_error sns_request_post_registered(grpc_server *server, void *method,
                                                          int read_payload, sns_request *r,
                                                          grpc_completion_queue *cq, void *tag) {
  return grpc_server_request_registered_call(server, method, &r->call, &r->deadline,
                                             &r->metadata, read_payload ? &r->payload : NULL,
                                             cq, cq, tag);
}

/// A server that refuses to share its port: gRPC enables SO_REUSEPORT by default, which would
/// let a second server "bind" a port that is already in use.
/// The largest message either side sends or accepts, set explicitly on every channel and server
/// (gRPC's default receive limit is 4 MiB). Transfers are paged far below it (1 MiB pages).
#define SNS_MAX_MESSAGE_BYTES (16 * 1024 * 1024)
static inline int sns_max_message_bytes(void) { return SNS_MAX_MESSAGE_BYTES; }

static inline void sns_int_arg(grpc_arg *arg, const char *key, int value) {
  arg->type = GRPC_ARG_INTEGER;
  arg->key = (char *)key;
  arg->value.integer = value;
}

/// A server that may not share its port (SO_REUSEPORT off), with the message limits above and
/// keepalive: it pings an idle connection every 10 s and drops it after 5 s without an answer, so a
/// stream to a client that vanished (or paused) ends; clients may ping it every 5 s.
static inline grpc_server *sns_server_create(void) {
  grpc_arg args[7];
  __builtin_memset(args, 0, sizeof(args));
  sns_int_arg(&args[0], GRPC_ARG_ALLOW_REUSEPORT, 0);
  sns_int_arg(&args[1], GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, SNS_MAX_MESSAGE_BYTES);
  sns_int_arg(&args[2], GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, SNS_MAX_MESSAGE_BYTES);
  sns_int_arg(&args[3], GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  sns_int_arg(&args[4], GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  sns_int_arg(&args[5], GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  sns_int_arg(&args[6], GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  grpc_channel_args channel_args = {7, args};
  return grpc_server_create(&channel_args, NULL);
}

static inline int sns_server_add_insecure_port(grpc_server *server, const char *address) {
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  int port = grpc_server_add_http2_port(server, address, creds);
  grpc_server_credentials_release(creds);
  return port;
}

/// Whether `address` can be bound in plaintext right now (binds, then shuts the probe down and
/// releases everything before returning). Tells an unusable TLS key or certificate, which
/// gRPC also reports as port 0, from an address that is in use.
static inline int sns_server_can_bind_insecure(const char *address) {
  grpc_server *probe = sns_server_create();
  if (probe == NULL) return 0;
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(probe, cq, NULL);
  int port = sns_server_add_insecure_port(probe, address);
  // A server with a listener must be shut down before it is destroyed.
  grpc_server_start(probe);
  grpc_server_shutdown_and_notify(probe, cq, probe);
  for (;;) {
    grpc_event event = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (event.type == GRPC_OP_COMPLETE && event.tag == probe) break;
  }
  grpc_server_destroy(probe);
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
  return port > 0;
}

/// Binds `address` with TLS: the server presents `cert_chain`/`private_key` (PEM). With
/// `client_roots`, client certificates are verified against it when presented, and required
/// when `require_client_cert` is non-zero. gRPC copies every string; the credentials are
/// released here. Returns the bound port, or 0 (address not bindable, or key/certificate unusable).
static inline int sns_server_add_tls_port(grpc_server *server, const char *address,
                                          const char *cert_chain, const char *private_key,
                                          const char *client_roots, int require_client_cert) {
  grpc_ssl_pem_key_cert_pair pair = {private_key, cert_chain};
  grpc_ssl_client_certificate_request_type request =
      client_roots == NULL  ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
      : require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                            : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  grpc_server_credentials *creds =
      grpc_ssl_server_credentials_create_ex(client_roots, &pair, 1, request, NULL);
  if (creds == NULL) return 0;
  int port = grpc_server_add_http2_port(server, address, creds);
  grpc_server_credentials_release(creds);
  return port;
}

// MARK: - Channel

/// A channel with `creds` (released here) that retries a lost connection after 100 ms, backing
/// off to at most 2 s (gRPC's defaults are 1 s and 120 s, far too slow to notice a restarted peer
/// in a local cluster). GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is also gRPC core's minimum *connect
/// timeout*: at 100 ms, TCP + TLS handshakes on a loaded machine were cut ("tcp handshaker
/// shutdown"), so it stays at 5 s; a refused connection still fails at once and is retried after
/// the initial 100 ms backoff. `target_name_override` (may be NULL) replaces the host name checked
/// against a TLS server's certificate.
static inline grpc_channel *sns_channel_create(const char *target, grpc_channel_credentials *creds,
                                               const char *target_name_override) {
  grpc_arg args[10];
  __builtin_memset(args, 0, sizeof(args));
  sns_int_arg(&args[0], GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  sns_int_arg(&args[1], GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  sns_int_arg(&args[2], GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  sns_int_arg(&args[3], GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, SNS_MAX_MESSAGE_BYTES);
  sns_int_arg(&args[4], GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, SNS_MAX_MESSAGE_BYTES);
  // Keepalive while calls are open: a stream to a server that stopped answering (paused, partitioned)
  // fails within about 15 s instead of waiting forever, so the client asks the coordinator again.
  sns_int_arg(&args[5], GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  sns_int_arg(&args[6], GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  sns_int_arg(&args[7], GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  size_t count = 8;
  if (target_name_override != NULL) {
    args[8].type = GRPC_ARG_STRING;
    args[8].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    args[8].value.string = (char *)target_name_override;
    count = 9;
  }
  grpc_channel_args channel_args = {count, args};
  grpc_channel *channel = grpc_channel_create(target, creds, &channel_args);
  grpc_channel_credentials_release(creds);
  return channel;
}

/// A plaintext channel (see sns_channel_create).
static inline grpc_channel *sns_insecure_channel_create(const char *target) {
  return sns_channel_create(target, grpc_insecure_credentials_create(), NULL);
}

/// A TLS channel that verifies the server against `roots` (PEM; NULL: gRPC's default roots) and,
/// with `cert_chain` and `private_key`, presents them as its client certificate (mutual TLS).
/// gRPC copies every string (see sns_channel_create for the rest).
static inline grpc_channel *sns_tls_channel_create(const char *target, const char *roots,
                                                   const char *cert_chain, const char *private_key,
                                                   const char *target_name_override) {
  grpc_ssl_pem_key_cert_pair pair = {private_key, cert_chain};
  int has_pair = cert_chain != NULL && private_key != NULL;
  grpc_channel_credentials *creds =
      grpc_ssl_credentials_create_ex(roots, has_pair ? &pair : NULL, NULL, NULL);
  if (creds == NULL) return NULL;
  return sns_channel_create(target, creds, target_name_override);
}

#endif
