// Real Raft replicas on engine logs talking through cluster/raft_wire: every message the harness delivers is
// encoded as the Kafka request/response it would be on a connection and decoded on the other side (a loopback
// transport keeping the OutstandingRequest/InboundRequest bookkeeping a host keeps). Proves the wire carries
// what Raft and EngineRaftLog actually produce (LeaderChange control batches, the stored RecordBatches,
// pre-votes, divergence) without loss.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/raft_wire.h"
#include "raft/raft.h"
#include "tests/cluster/engine_store.h"
#include "tests/cluster/raft_message_eq.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/raft/harness.h"

namespace streamctl::cluster {
namespace {

using EngineHarness = raft::test::BasicHarness<test::EngineStore>;

// The loopback: requests -> encode_requests -> decode_request (the responder sees the Kafka correlation id);
// responses -> encode_response -> decode_response (the requester gets its Raft correlation id back).
class WireLoopback {
 public:
  std::optional<raft::Message> operator()(raft::Message m) {
    const GroupId g{"p", 0};
    if (is_request(m.body)) {
      auto out = encode_requests(m.destination, {GroupMessage{g, m}});
      REQUIRE_MESSAGE(out.ok(), test::error_text(out));
      REQUIRE(out->size() == 1);
      const int32_t kafka_correlation = ++next_correlation_;
      auto in = decode_request(m.source, m.destination, kafka_correlation, out->at(0).request);
      REQUIRE_MESSAGE(in.ok(), test::error_text(in));
      REQUIRE(in->requests.size() == 1);
      raft::Message expect = m;
      expect.correlation_id = kafka_correlation;
      CHECK(test::eq(GroupMessage{g, expect}, in->requests[0]));
      raft::Message through = in->requests[0].message;
      pending_[{m.destination, kafka_correlation}] = Pending{std::move(*in), std::move(out->at(0).outstanding)};
      ++requests;
      return through;
    }
    auto it = pending_.find({m.source, m.correlation_id});
    REQUIRE_MESSAGE(it != pending_.end(), "a response to a request that did not cross the wire");
    auto resp = encode_response(it->second.in, {GroupMessage{g, m}});
    REQUIRE_MESSAGE(resp.ok(), test::error_text(resp));
    auto back = decode_response(it->second.out, m.destination, resp->body);
    REQUIRE_MESSAGE(back.ok(), test::error_text(back));
    REQUIRE(back->size() == 1);
    raft::Message expect = m;
    expect.correlation_id = it->second.out.groups.at(0).correlation_id;
    CHECK(test::eq(GroupMessage{g, expect}, back->at(0)));
    if (const auto* f = std::get_if<raft::FetchResponse>(&m.body)) batches += f->records.size();
    pending_.erase(it);
    ++responses;
    return back->at(0).message;
  }

  int requests = 0;
  int responses = 0;
  size_t batches = 0;

 private:
  struct Pending {
    InboundRequest in;
    OutstandingRequest out;
  };
  int32_t next_correlation_ = 0;
  std::map<std::pair<raft::NodeId, int32_t>, Pending> pending_;  // (responder, Kafka correlation id)
};

std::vector<std::string> stored(EngineHarness& h, raft::NodeId id) {
  std::vector<std::string> out;
  for (raft::Batch& b : test::read_batches(h.log(id))) out.push_back(std::move(b.bytes));
  return out;
}

TEST_CASE("three replicas on engine logs replicate byte for byte through the Kafka wire") {
  EngineHarness c(3);
  auto wire = std::make_shared<WireLoopback>();
  c.set_wire([wire](raft::Message m) { return (*wire)(std::move(m)); });
  c.campaign(0);
  REQUIRE(c.node(0).role() == raft::Role::kLeader);
  for (int i = 0; i < 30; ++i) REQUIRE(c.append(0, test::tag("a", i)));
  c.run(300);
  // Leader 0 loses its followers; 1 and 2 elect a new leader, in a new epoch.
  c.isolate(0);
  REQUIRE(c.append(0, "lost"));  // never commits: it diverges and is truncated when 0 returns
  c.run(50);
  raft::NodeId next = raft::kNoNode;
  for (int ms = 0; ms < 5000 && next == raft::kNoNode; ms += 10) {
    c.run(10);
    for (raft::NodeId id : {1, 2})
      if (c.node(id).role() == raft::Role::kLeader) next = id;
  }
  REQUIRE(next != raft::kNoNode);
  for (int i = 0; i < 10; ++i) REQUIRE(c.append(next, test::tag("b", i)));
  c.run(300);
  c.heal();
  c.run(3000);
  for (raft::NodeId id : {0, 1, 2}) {
    CAPTURE(id);
    CHECK(c.node(id).high_watermark() == c.log(next).end_offset());
    CHECK(stored(c, id) == stored(c, next));
  }
  MESSAGE(wire->requests << " requests, " << wire->responses << " responses, " << wire->batches
                         << " batches crossed the wire");
  CHECK(wire->batches >= 40);
  CHECK(wire->responses > 0);
}

}  // namespace
}  // namespace streamctl::cluster
