// Helpers shared by the protocol codec tests: hex <-> bytes and the golden capture vectors
// (tests/data/captures/*.jsonl, see the README there). Test-only; not thread-safe (static cache).
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "base/coding.h"
#include "kafka/protocol/wire.h"

namespace streamctl::kafka::protocol::testing {

inline Bytes from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex length");
  Bytes out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(std::byte((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

inline std::string to_hex(ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    out.push_back(kDigits[uint8_t(b) >> 4]);
    out.push_back(kDigits[uint8_t(b) & 0xf]);
  }
  return out;
}

struct Capture {
  std::string client;
  std::string flow;
  int conn = 0;
  int16_t api_key = 0;
  std::string api_name;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  Bytes request;
  std::optional<Bytes> response;  // null when the client exited before the answer

  std::string label() const {
    return client + "/" + flow + " " + api_name + " v" + std::to_string(api_version) + " corr " +
           std::to_string(correlation_id);
  }
};

inline std::vector<Capture> load_captures(const std::string& client) {
  const std::string path = std::string(STREAMCTL_SOURCE_DIR) + "/tests/data/captures/" + client +
                           ".jsonl";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Capture> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    Capture c;
    c.client = j.at("client").get<std::string>();
    c.flow = j.at("flow").get<std::string>();
    c.conn = j.at("conn").get<int>();
    c.api_key = j.at("api_key").get<int16_t>();
    c.api_name = j.at("api_name").get<std::string>();
    c.api_version = j.at("api_version").get<int16_t>();
    c.correlation_id = j.at("correlation_id").get<int32_t>();
    c.request = from_hex(j.at("request_hex").get<std::string>());
    if (!j.at("response_hex").is_null()) c.response = from_hex(j.at("response_hex").get<std::string>());
    out.push_back(std::move(c));
  }
  return out;
}

inline const std::vector<Capture>& all_captures() {
  static const std::vector<Capture> all = [] {
    std::vector<Capture> v;
    for (const char* client : {"kcat", "kafka-python", "kafkajs"}) {
      auto c = load_captures(client);
      v.insert(v.end(), c.begin(), c.end());
    }
    return v;
  }();
  return all;
}

// Encodes `m` at every generated version and decodes it back equal; with check_prefixes, also that every
// strict prefix of each encoding fails to decode (an error, never a crash).
template <typename M>
void check_round_trip(const M& m, bool check_prefixes = false) {
  for (int16_t v = M::kMinVersion; v <= M::kMaxVersion; ++v) {
    CAPTURE(M::kName);
    CAPTURE(v);
    Bytes out;
    auto st = encode_message(m, v, out);
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? std::string() : st.error().to_string()));
    auto back = decode_message<M>(out, v);
    REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.error().to_string()));
    CHECK(*back == m);
    for (size_t n = 0; check_prefixes && n < out.size(); ++n) {
      CHECK_FALSE(decode_message<M>(ByteSpan(out.data(), n), v).ok());
    }
  }
}

}  // namespace streamctl::kafka::protocol::testing
