// libFuzzer target for the Kafka codec: one input = one request frame (the bytes after the 4-byte size).
//
// Property checked, besides "no crash, no sanitizer report, no allocation over -malloc_limit_mb":
// anything decode_request accepts re-encodes, and decode(encode(x)) == x with encode idempotent from
// there (the same fixed point the unit tests check). The first four bytes are also reused as
// (api key, version) to drive every generated request and response decoder directly, including
// versions we do not advertise (flexible Fetch v12, Metadata v9-12, ...).
// Built and run by tests/fuzz/run_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "kafka/protocol/frame.h"

namespace {

using namespace streamctl;
using namespace streamctl::kafka::protocol;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "request_decoder_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check_request_frame(ByteSpan frame) {
  auto req = decode_request(frame);
  if (!req.ok()) return;
  Bytes once;
  auto st = encode_request(*req, once);
  if (!st.ok()) fail("decoded request does not re-encode", st.error().to_string());
  auto again = decode_request(once);
  if (!again.ok()) fail("re-encoded request does not decode", again.error().to_string());
  if (!(again->header == req->header) || !(again->body == req->body)) {
    fail("decode(encode(x)) != x", api_name(req->header.api_key));
  }
  Bytes twice;
  if (!encode_request(*again, twice).ok() || twice != once) {
    fail("encode is not stable", api_name(req->header.api_key));
  }
}

template <typename Body, typename Decode, typename Encode>
void check_body(int16_t key, int16_t version, ByteSpan bytes, Decode decode, Encode encode) {
  Result<Body> body = decode(key, version, bytes);
  if (!body.ok()) return;
  Bytes once;
  auto st = encode(*body, version, once);
  if (!st.ok()) fail("decoded body does not re-encode", st.error().to_string());
  Result<Body> again = decode(key, version, once);
  if (!again.ok()) fail("re-encoded body does not decode", again.error().to_string());
  Bytes twice;
  if (!encode(*again, version, twice).ok() || twice != once) {
    fail("body encode is not stable", api_name(key));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan frame(reinterpret_cast<const std::byte*>(data), size);
  check_request_frame(frame);
  if (size >= 4) {
    const ApiInfo* api = find_api(int16_t(get_be16(frame.data())));
    if (api != nullptr) {
      const int16_t key = static_cast<int16_t>(api->key);
      const int span = api->decodable.max - api->decodable.min + 1;
      const int16_t version = int16_t(api->decodable.min + get_be16(frame.data() + 2) % span);
      ByteSpan body = frame.subspan(4);
      check_body<RequestBody>(
          key, version, body,
          [](int16_t k, int16_t v, ByteSpan b) { return decode_request_message(k, v, b); },
          [](const RequestBody& m, int16_t v, Bytes& out) {
            return encode_request_message(m, v, out);
          });
      check_body<ResponseBody>(
          key, version, body,
          [](int16_t k, int16_t v, ByteSpan b) { return decode_response_message(k, v, b); },
          [](const ResponseBody& m, int16_t v, Bytes& out) {
            return encode_response_message(m, v, out);
          });
    }
  }
  return 0;
}
