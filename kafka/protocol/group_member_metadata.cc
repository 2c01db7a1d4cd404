#include "kafka/protocol/group_member_metadata.h"

#include <algorithm>
#include <string>

#include "kafka/protocol/wire.h"

namespace streamctl::kafka::protocol {

namespace {

template <typename Message, typename Versioned, typename Member>
Result<Versioned> decode_versioned(ByteSpan bytes, Member Versioned::*member) {
  Reader r(bytes, /*flexible=*/false);
  Versioned out;
  out.version = r.int16("version");
  if (r.ok() && out.version < 0) {
    r.fail("version", "negative version " + std::to_string(out.version));
  }
  if (r.ok()) {
    const int16_t read_as = std::min<int16_t>(out.version, Message::kMaxVersion);
    (out.*member).decode(r, read_as);
  }
  auto st = r.status(Message::kName);
  if (!st.ok()) return std::move(st).error();
  return out;
}

template <typename Message>
Status encode_versioned(const Message& m, int16_t version, Bytes& out) {
  if (version < Message::kMinVersion || version > Message::kMaxVersion) {
    return Error::not_supported(std::string(Message::kName) + " v" +
                                        std::to_string(version) + " is not supported");
  }
  const size_t mark = out.size();
  Writer w(out, /*flexible=*/false);
  w.int16(version);
  m.encode(w, version);
  auto st = w.status(std::string(Message::kName) + " v" + std::to_string(version));
  if (!st.ok()) out.resize(mark);
  return st;
}

}  // namespace

Result<VersionedSubscription> decode_subscription(ByteSpan metadata) {
  return decode_versioned<ConsumerProtocolSubscription>(metadata,
                                                        &VersionedSubscription::subscription);
}

Result<VersionedAssignment> decode_assignment(ByteSpan assignment) {
  return decode_versioned<ConsumerProtocolAssignment>(assignment, &VersionedAssignment::assignment);
}

Status encode_subscription(const ConsumerProtocolSubscription& subscription, int16_t version,
                                   Bytes& out) {
  return encode_versioned(subscription, version, out);
}

Status encode_assignment(const ConsumerProtocolAssignment& assignment, int16_t version,
                                 Bytes& out) {
  return encode_versioned(assignment, version, out);
}

}  // namespace streamctl::kafka::protocol
