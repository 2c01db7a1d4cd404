#include "kafka/protocol/header.h"

#include "kafka/protocol/api_keys.h"

namespace streamctl::kafka::protocol {

int16_t request_header_version(int16_t api_key, int16_t api_version) {
  return is_flexible_version(api_key, api_version) ? 2 : 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) {
  if (api_key == static_cast<int16_t>(ApiKey::kApiVersions)) return 0;
  return is_flexible_version(api_key, api_version) ? 1 : 0;
}

Result<RequestHeader> decode_request_header(ByteSpan frame, size_t* body_offset) {
  // client_id is a classic (int16-length) string in every header version, so the reader is
  // non-flexible; the tagged-field section does not depend on the reader's mode.
  Reader r(frame, /*flexible=*/false);
  RequestHeader h;
  h.api_key = r.int16("RequestHeader.api_key");
  h.api_version = r.int16("RequestHeader.api_version");
  h.correlation_id = r.int32("RequestHeader.correlation_id");
  h.client_id = r.nullable_string("RequestHeader.client_id", /*nullable=*/true);
  if (r.ok() && request_header_version(h.api_key, h.api_version) >= 2) {
    r.tagged_fields("RequestHeader.tagged_fields", h.unknown_tagged_fields);
  }
  auto st = r.status("request header");
  if (!st.ok()) return std::move(st).error();
  *body_offset = r.position();
  return h;
}

Status encode_request_header(const RequestHeader& header, Bytes& out) {
  const size_t mark = out.size();
  Writer w(out, /*flexible=*/false);
  w.int16(header.api_key);
  w.int16(header.api_version);
  w.int32(header.correlation_id);
  w.nullable_string(header.client_id, /*nullable=*/true, "RequestHeader.client_id");
  if (request_header_version(header.api_key, header.api_version) >= 2) {
    w.tagged_fields(header.unknown_tagged_fields);
  }
  auto st = w.status("request header");
  if (!st.ok()) out.resize(mark);
  return st;
}

Result<ResponseHeader> decode_response_header(ByteSpan frame, int16_t header_version,
                                                      size_t* body_offset) {
  Reader r(frame, /*flexible=*/false);
  ResponseHeader h;
  h.correlation_id = r.int32("ResponseHeader.correlation_id");
  if (header_version >= 1) {
    r.tagged_fields("ResponseHeader.tagged_fields", h.unknown_tagged_fields);
  }
  auto st = r.status("response header v" + std::to_string(header_version));
  if (!st.ok()) return std::move(st).error();
  *body_offset = r.position();
  return h;
}

void encode_response_header(const ResponseHeader& header, int16_t header_version,
                            Bytes& out) {
  Writer w(out, /*flexible=*/false);
  w.int32(header.correlation_id);
  if (header_version >= 1) w.tagged_fields(header.unknown_tagged_fields);
}

}  // namespace streamctl::kafka::protocol
