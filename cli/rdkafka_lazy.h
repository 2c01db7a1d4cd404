// librdkafka, loaded on first use. streamctl links no Kafka client library: embedded commands (the common
// case, and the start-up budget of a one-line `produce`) never pay for loading librdkafka, libssl,
// libcrypto and libsasl2 (about 1.4 ms of dynamic linking and relocation per process on the reference
// machine). Remote commands (--brokers, or a data directory served by `streamctl serve`) call
// rdkafka_load() first; it dlopen()s librdkafka.so.1 and resolves every function the CLI calls.
//
// How: include this header instead of <librdkafka/rdkafka.h>. Below the declarations, each librdkafka
// function the CLI calls is redefined as a macro that calls through RdKafkaApi, so the code reads as plain
// librdkafka calls. The function list is generated at build time (cmake/rdkafka_api.cmake scans cli/ for
// `rd_kafka_xyz(` calls), so a new call needs no list edit.
// Thread-safety: rdkafka_load() is thread-safe (std::call_once); RdKafkaApi is immutable once loaded.
#pragma once

#include <librdkafka/rdkafka.h>

#include "base/result.h"

namespace streamctl::cli {

struct RdKafkaApi {
#define STREAMCTL_RDKAFKA_FN(name) decltype(&::name) name = nullptr;
#include "rdkafka_api.inc"
#undef STREAMCTL_RDKAFKA_FN
};

// Loads librdkafka.so.1 once. kNotSupported, saying what to install, when the library or one of the
// functions is missing.
Status rdkafka_load();

// The loaded functions. REQUIRES: rdkafka_load() succeeded (otherwise prints the load error and exits 1:
// remote code paths call rdkafka_load() first and report its error properly).
const RdKafkaApi& rdkafka_api();

}  // namespace streamctl::cli

// rdkafka_lazy.cc, which fills RdKafkaApi, needs the plain declarations.
#ifndef STREAMCTL_RDKAFKA_NO_REDIRECT
#include "rdkafka_redirect.inc"
#endif
