// Prints the cost of one SCRAM server handshake (server side: client-first -> server-first, client-final
// -> server-final, incl. proof verification) at Kafka's default 4096 iterations, and of the client side
// (PBKDF2 dominates it), for SCRAM-SHA-256 and -512.
//
// Usage: scram_bench [ROUNDS (default 200)]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "security/scram.h"

using namespace streamctl::security;

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  if (rounds <= 0) {
    std::fprintf(stderr, "usage: scram_bench [ROUNDS > 0]\n");
    return 2;
  }
  for (ScramMechanism mech : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    auto credential = new_scram_credential(mech, "bench-password", kScramDefaultIterations);
    if (!credential.ok()) {
      std::fprintf(stderr, "%s\n", credential.error().to_string().c_str());
      return 1;
    }
    ScramCredentialLookup lookup = [&](const std::string&, ScramMechanism) { return credential.value(); };
    double server_ns = 0, client_ns = 0;
    using clock = std::chrono::steady_clock;
    for (int i = 0; i < rounds; ++i) {
      ScramServer server(mech, lookup);
      ScramClient client(mech, "bench", "bench-password");
      auto t0 = clock::now();
      std::string first = client.client_first();
      auto t1 = clock::now();
      auto server_first = server.step(first);
      auto t2 = clock::now();
      auto client_final = client.client_final(server_first.value());
      auto t3 = clock::now();
      auto server_final = server.step(client_final.value());
      auto t4 = clock::now();
      if (!server_final.ok() || !client.verify_server_final(server_final.value()).ok()) {
        std::fprintf(stderr, "handshake failed\n");
        return 1;
      }
      server_ns += std::chrono::duration<double, std::nano>((t2 - t1) + (t4 - t3)).count();
      client_ns += std::chrono::duration<double, std::nano>((t1 - t0) + (t3 - t2)).count();
    }
    std::printf("%s iterations=%d rounds=%d server_handshake_us=%.1f client_us=%.1f\n", scram_mechanism_name(mech),
                kScramDefaultIterations, rounds, server_ns / rounds / 1000.0, client_ns / rounds / 1000.0);
  }
  return 0;
}
