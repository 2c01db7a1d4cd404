// Loading librdkafka at run time (see rdkafka_lazy.h). This file sees the plain declarations only: it
// defines STREAMCTL_RDKAFKA_NO_REDIRECT, so the header leaves the redirecting macros out.
#define STREAMCTL_RDKAFKA_NO_REDIRECT
#include "cli/rdkafka_lazy.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace streamctl::cli {

namespace {

RdKafkaApi g_api;
std::once_flag g_once;
Status g_status;

// The soname this build was compiled against (librdkafka keeps ABI compatibility within .so.1).
constexpr const char* kSoname = "librdkafka.so.1";

void load() {
  void* handle = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    g_status = Error::not_supported(std::string("talking to a Kafka-protocol broker needs librdkafka (") +
                                          kSoname + "), which could not be loaded: " + (why ? why : "unknown error") +
                                          "; install it with: apt-get install librdkafka1");
    return;
  }
  std::string missing;
#define STREAMCTL_RDKAFKA_FN(name)                                                   \
  g_api.name = reinterpret_cast<decltype(g_api.name)>(::dlsym(handle, #name));       \
  if (g_api.name == nullptr) missing += std::string(missing.empty() ? "" : ", ") + #name;
#include "rdkafka_api.inc"
#undef STREAMCTL_RDKAFKA_FN
  if (!missing.empty()) {
    g_status = Error::not_supported(std::string(kSoname) + " lacks functions streamctl needs (" + missing +
                                          "): it is older than the librdkafka streamctl was built against; upgrade librdkafka1");
  }
}

}  // namespace

Status rdkafka_load() {
  std::call_once(g_once, load);
  return g_status;
}

const RdKafkaApi& rdkafka_api() {
  Status st = rdkafka_load();
  if (!st.ok()) {
    std::fprintf(stderr, "streamctl: error: %s\n", st.error().message.c_str());
    std::exit(1);
  }
  return g_api;
}

}  // namespace streamctl::cli
