#include "security/principal.h"

#include <openssl/bio.h>

#include <memory>

namespace streamctl::security {

Result<std::string> principal_from_certificate(X509* certificate) {
  if (certificate == nullptr) return Error::invalid_argument("no client certificate");
  X509_NAME* subject = X509_get_subject_name(certificate);
  if (subject == nullptr || X509_NAME_entry_count(subject) == 0) {
    return Error::invalid_argument("client certificate has an empty subject");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  // XN_FLAG_RFC2253 is what Java's X500Principal.getName() (Kafka's default) produces: most specific RDN
  // first, "," separators, RFC 2253 escaping; UTF-8 printed as is.
  if (!bio || X509_NAME_print_ex(bio.get(), subject, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    return Error::invalid_argument("client certificate subject cannot be printed");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return "User:" + std::string(data, static_cast<size_t>(len));
}

}  // namespace streamctl::security
