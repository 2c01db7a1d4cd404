#include "security/principal.h"

#include <doctest/doctest.h>

#include <memory>

using namespace streamctl::security;

namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr cert_with_subject(std::initializer_list<std::pair<const char*, const char*>> rdns) {
  X509Ptr cert(X509_new(), &X509_free);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (auto [field, value] : rdns) {
    REQUIRE(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value), -1,
                                       -1, 0) == 1);
  }
  return cert;
}

}  // namespace

TEST_CASE("PrincipalIsTheSubjectInRfc2253OrderMostSpecificFirst") {
  auto cert = cert_with_subject({{"O", "Example"}, {"OU", "apps"}, {"CN", "writer"}});
  CHECK(principal_from_certificate(cert.get()).value() == "User:CN=writer,OU=apps,O=Example");
}

TEST_CASE("PrincipalEscapesSpecialCharacters") {
  auto cert = cert_with_subject({{"CN", "a,b+c"}});
  CHECK(principal_from_certificate(cert.get()).value() == "User:CN=a\\,b\\+c");
}

TEST_CASE("PrincipalNeedsACertificateWithASubject") {
  CHECK_FALSE(principal_from_certificate(nullptr).ok());
  X509Ptr empty(X509_new(), &X509_free);
  CHECK_FALSE(principal_from_certificate(empty.get()).ok());
}
