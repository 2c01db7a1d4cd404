// Kafka error codes the security layer answers with, as plain int16 values equal to Kafka's (Errors.java),
// so this module does not depend on the protocol codec. The server copies them into its responses.
#pragma once

#include <cstdint>

namespace streamctl::security::kafka_error {

inline constexpr int16_t kNone = 0;
inline constexpr int16_t kTopicAuthorizationFailed = 29;
inline constexpr int16_t kGroupAuthorizationFailed = 30;
inline constexpr int16_t kClusterAuthorizationFailed = 31;
inline constexpr int16_t kUnsupportedSaslMechanism = 33;
inline constexpr int16_t kIllegalSaslState = 34;
inline constexpr int16_t kUnsupportedVersion = 35;
inline constexpr int16_t kTransactionalIdAuthorizationFailed = 53;
inline constexpr int16_t kSecurityDisabled = 54;
inline constexpr int16_t kSaslAuthenticationFailed = 58;
inline constexpr int16_t kResourceNotFound = 91;

}  // namespace streamctl::security::kafka_error
