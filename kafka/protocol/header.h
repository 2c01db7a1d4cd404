// Kafka request and response headers and the rules choosing their version.
//
// Request header (RequestHeader.json):
//   v1: int16 api_key, int16 api_version, int32 correlation_id, nullable string client_id (int16 length)
//   v2: v1 + tagged-field section. client_id keeps its int16 length even though v2 is "flexible".
//   (v0, without client_id, is only used by ControlledShutdown v0, which streamctl does not serve.)
// Response header (ResponseHeader.json):
//   v0: int32 correlation_id
//   v1: v0 + tagged-field section.
// A request/response uses header v2/v1 exactly when its API version is flexible, except that every
// ApiVersions response uses header v0 (a client that does not yet know the broker's versions must be
// able to parse it). Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "kafka/protocol/wire.h"

namespace streamctl::kafka::protocol {

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  // v1+: null when the client sends length -1.
  std::optional<std::string> client_id;
  // v2+: header tagged fields (Kafka defines none in 3.8), kept for re-encoding.
  std::vector<RawTaggedField> unknown_tagged_fields;

  bool operator==(const RequestHeader&) const = default;
};

struct ResponseHeader {
  int32_t correlation_id = 0;
  // v1+: header tagged fields (Kafka defines none in 3.8), kept for re-encoding.
  std::vector<RawTaggedField> unknown_tagged_fields;

  bool operator==(const ResponseHeader&) const = default;
};

// 2 for flexible versions, else 1. Unknown API keys count as non-flexible.
int16_t request_header_version(int16_t api_key, int16_t api_version);
// 1 for flexible versions, else 0; always 0 for ApiVersions.
int16_t response_header_version(int16_t api_key, int16_t api_version);

// Decodes the request header at the start of `frame` (the bytes after the 4-byte size); on success
// `*body_offset` is where the body starts. The header version follows from the api key and version
// read first. kCorruption (naming the field) when the frame is too short or malformed.
Result<RequestHeader> decode_request_header(ByteSpan frame, size_t* body_offset);
// Appends the header in the version request_header_version() picks for it. kInvalidArgument (and `out`
// unchanged) if client_id is longer than 32767 bytes.
Status encode_request_header(const RequestHeader& header, Bytes& out);

// Decodes a response header of `header_version` (0 or 1) at the start of `frame`.
Result<ResponseHeader> decode_response_header(ByteSpan frame, int16_t header_version,
                                                      size_t* body_offset);
// Appends a response header of `header_version` (0 or 1).
void encode_response_header(const ResponseHeader& header, int16_t header_version,
                            Bytes& out);

}  // namespace streamctl::kafka::protocol
