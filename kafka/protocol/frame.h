// The codec's entry points for the connection layer: one request frame in, one response frame out.
//
// A frame is what follows Kafka's 4-byte big-endian size prefix. Requests are decoded in two steps so
// the caller always learns the header (correlation id, api key/version) even when the body cannot be
// decoded:
//
//   auto frame = decode_request_frame(bytes);            // header only; error = close the connection
//   if (!frame.ok()) { log(frame.error()); close(); }
//   auto body = decode_request_body(frame->header, frame->body);
//   if (!body.ok()) {
//     if (body.error().code == streamctl::ErrorCode::kNotSupported &&
//         frame->header.api_key == int16_t(ApiKey::kApiVersions)) {
//       // Kafka's rule: answer an unsupported ApiVersions version with a v0 body.
//       encode_response_frame(frame->header.correlation_id, 0,
//                             make_unsupported_api_versions_response(), out);
//     } else { log(body.error()); close(); }
//   }
//   std::visit(handler, *body) ... -> ResponseBody
//   encode_response_frame(frame->header.correlation_id, frame->header.api_version, response, out);
//
// kNotSupported: api key unknown or version not advertised (api_keys.h). kCorruption: malformed bytes;
// the message names the API, version and field. Stateless functions; thread-safe. The RequestFrame's
// body is a view into the caller's buffer; decoded structs own their data.
#pragma once

#include <cstdint>

#include "base/coding.h"
#include "base/result.h"
#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/error_codes.h"
#include "kafka/protocol/header.h"
#include "kafka/protocol/generated/messages.h"

namespace streamctl::kafka::protocol {

struct RequestFrame {
  RequestHeader header;
  ByteSpan body;  // view into the frame passed to decode_request_frame
};

struct Request {
  RequestHeader header;
  RequestBody body;  // alternative matching header.api_key
};

struct Response {
  ResponseHeader header;
  ResponseBody body;
};

// Splits a request frame into its header and body bytes.
Result<RequestFrame> decode_request_frame(ByteSpan frame);

// Decodes a request body for (header.api_key, header.api_version). Accepts only advertised versions.
Result<RequestBody> decode_request_body(const RequestHeader& header, ByteSpan body);

// Both steps. Fails like either of them.
Result<Request> decode_request(ByteSpan frame);

// Appends header + body of a request (no size prefix), using the header's api_version, to `out`.
// For clients and tests; accepts any decodable version. On error `out` is unchanged.
Status encode_request(const Request& request, Bytes& out);

// Appends a response to `out`: the 4-byte size prefix, the response header (version chosen by
// response_header_version; v0 for ApiVersions) and the body encoded at `api_version`. On error
// (version outside the codec, a value the version cannot carry) `out` is left unchanged.
// `external` (wire.h): records fields left out of `out`; their positions are offsets in `out` and the
// size prefix counts their lengths, so the frame is complete once their bytes are inserted there.
Status encode_response_frame(int32_t correlation_id, int16_t api_version,
                                     const ResponseBody& body, Bytes& out,
                                     ExternalRecords* external = nullptr);

// Same without the size prefix.
Status encode_response(int32_t correlation_id, int16_t api_version, const ResponseBody& body,
                               Bytes& out, ExternalRecords* external = nullptr);

// Decodes a response frame (no size prefix) of (api_key, api_version): header and body. For clients
// and tests; accepts any decodable version.
Result<Response> decode_response(int16_t api_key, int16_t api_version,
                                         ByteSpan frame);

}  // namespace streamctl::kafka::protocol
