// Dispatcher: one decoded request header + body bytes in, one Reply out (the encoded response frame, "no
// response" for acks=0 Produce, or "close the connection").
//
// Order of checks, as Kafka (COMPAT.md §3.1):
//   * ApiVersions at a version we do not advertise: body not parsed; answered with a v0 body and v0
//     header, UNSUPPORTED_VERSION listing ApiVersions' own range (clients then retry lower);
//   * an API key the codec does not know, or a version beyond the codec: the connection is closed with a
//     log line (there is no response layout to answer with);
//   * a malformed body (bad lengths, negative counts, truncated fields, trailing bytes): closed, logged;
//   * a version the codec can decode but we do not advertise: an error response (UNSUPPORTED_VERSION in
//     every error field) at that version;
//   * with --authorizer, resources named by group, offset and admin requests are checked (a denied one
//     answers the whole request with TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED); Produce, Fetch and
//     Metadata check their topics in their handlers;
//   * SaslHandshake/SaslAuthenticate reaching here (no SASL on the listener, or already authenticated):
//     ILLEGAL_SASL_STATE; on SASL listeners the Connection's SaslGate answers them (server/sasl_gate.h);
//   * otherwise the API's handler (server/handlers/handlers.h).
// The Reply's frame includes the 4-byte size prefix, the response header (v0, or v1 for flexible
// versions except ApiVersions) and the body.
// Thread-safety: thread-safe (stateless besides the services); `done` may be called on another thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/fs.h"
#include "server/request_context.h"

namespace streamctl::server {

// Bytes of a response frame that are sent from a file (sendfile) instead of from Reply::frame: they go
// right before frame[at] (several at one offset go in order). The FileSlice keeps the file open.
struct FileSplice {
  size_t at = 0;
  FileSlice slice;
};

struct Reply {
  enum class Action { kSend, kNoResponse, kClose };
  Action action = Action::kSend;
  Bytes frame;  // kSend: size prefix + header + body, without the splices' bytes
  std::vector<FileSplice> splices;  // kSend: file bytes completing the frame, ascending `at`
  std::string reason;   // kClose: why, for the log line
  // Bytes on the wire: the frame and its splices.
  size_t wire_size() const;
};
using ReplyFn = std::function<void(Reply)>;

class Dispatcher {
 public:
  explicit Dispatcher(BrokerServices& services) : services_(services) {}
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // `ctx.header` is decoded; `body` is the rest of the frame (only read during this call).
  // `done` is called exactly once.
  void dispatch(RequestContext ctx, ByteSpan body, ReplyFn done);

  BrokerServices& services() { return services_; }

 private:
  BrokerServices& services_;
};

}  // namespace streamctl::server
