// Principals of TLS clients: Kafka's default SSL principal builder names an mTLS client
// "User:" + the certificate subject in RFC 2253 form, e.g. "User:CN=writer,OU=apps,O=Example".
#pragma once

#include <openssl/x509.h>

#include <string>

#include "base/result.h"

namespace streamctl::security {

// "User:<subject in RFC 2253>" of a certificate; kInvalidArgument when it has no subject.
Result<std::string> principal_from_certificate(X509* certificate);

}  // namespace streamctl::security
