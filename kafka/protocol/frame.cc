#include "kafka/protocol/frame.h"

#include <string>

namespace streamctl::kafka::protocol {

namespace {

std::string describe(int16_t api_key, int16_t api_version) {
  return std::string(api_name(api_key)) + " (key " + std::to_string(api_key) + ") v" +
         std::to_string(api_version);
}

}  // namespace

Result<RequestFrame> decode_request_frame(ByteSpan frame) {
  size_t body_offset = 0;
  auto header = decode_request_header(frame, &body_offset);
  if (!header.ok()) return std::move(header).error();
  return RequestFrame{std::move(header).value(), frame.subspan(body_offset)};
}

Result<RequestBody> decode_request_body(const RequestHeader& header, ByteSpan body) {
  const ApiInfo* api = find_api(header.api_key);
  if (api == nullptr) {
    return Error::not_supported("unsupported API key " + std::to_string(header.api_key));
  }
  if (!api->advertised.contains(header.api_version)) {
    std::string range = api->advertised.empty()
                            ? std::string("not served")
                            : "served versions are " + std::to_string(api->advertised.min) + "-" +
                                  std::to_string(api->advertised.max);
    return Error::not_supported(describe(header.api_key, header.api_version) +
                                        " is not supported: " + range);
  }
  return decode_request_message(header.api_key, header.api_version, body);
}

Result<Request> decode_request(ByteSpan frame) {
  auto parsed = decode_request_frame(frame);
  if (!parsed.ok()) return std::move(parsed).error();
  auto body = decode_request_body(parsed->header, parsed->body);
  if (!body.ok()) return std::move(body).error();
  return Request{std::move(parsed->header), std::move(body).value()};
}

Status encode_request(const Request& request, Bytes& out) {
  if (api_key_of(request.body) != request.header.api_key) {
    return Error::invalid_argument(
        "request header says API key " + std::to_string(request.header.api_key) +
        " but the body is API key " + std::to_string(api_key_of(request.body)));
  }
  const size_t mark = out.size();
  STREAMCTL_TRY(encode_request_header(request.header, out));
  auto st = encode_request_message(request.body, request.header.api_version, out);
  if (!st.ok()) out.resize(mark);
  return st;
}

Status encode_response(int32_t correlation_id, int16_t api_version, const ResponseBody& body,
                               Bytes& out, ExternalRecords* external) {
  const int16_t api_key = api_key_of(body);
  const size_t mark = out.size();
  ResponseHeader header;
  header.correlation_id = correlation_id;
  encode_response_header(header, response_header_version(api_key, api_version), out);
  auto st = external == nullptr
                ? encode_response_message(body, api_version, out)
                : std::visit([&](const auto& m) { return encode_message(m, api_version, out, external); }, body);
  if (!st.ok()) out.resize(mark);
  return st;
}

Status encode_response_frame(int32_t correlation_id, int16_t api_version,
                                     const ResponseBody& body, Bytes& out, ExternalRecords* external) {
  const size_t mark = out.size();
  ByteWriter w(out);
  w.i32(0);  // size, patched below
  auto st = encode_response(correlation_id, api_version, body, out, external);
  if (!st.ok()) {
    out.resize(mark);
    return st;
  }
  uint64_t external_bytes = 0;
  if (external != nullptr) {
    for (const auto& f : external->fields) external_bytes += f.length;
  }
  const uint64_t size = out.size() - mark - 4 + external_bytes;
  if (size > size_t(INT32_MAX)) {
    out.resize(mark);
    return Error::invalid_argument("response of " + std::to_string(size) +
                                           " bytes does not fit a Kafka frame");
  }
  w.patch_be32(mark, uint32_t(size));
  return ok_status();
}

Result<Response> decode_response(int16_t api_key, int16_t api_version,
                                         ByteSpan frame) {
  size_t body_offset = 0;
  auto header =
      decode_response_header(frame, response_header_version(api_key, api_version), &body_offset);
  if (!header.ok()) return std::move(header).error();
  auto body = decode_response_message(api_key, api_version, frame.subspan(body_offset));
  if (!body.ok()) return std::move(body).error();
  return Response{std::move(header).value(), std::move(body).value()};
}

}  // namespace streamctl::kafka::protocol
