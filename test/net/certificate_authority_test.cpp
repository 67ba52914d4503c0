#include "cnimig/net/certificate_authority.hpp"

#include <boost/test/unit_test.hpp>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

using namespace cnimig::net;

namespace {

X509* read_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// Verifies `leaf` against `ca` with OpenSSL's chain verification, and the
// leaf's name/IP against the given host (what a TLS client does).
bool verifies(const std::string& ca_pem, const std::string& leaf_pem, const char* host,
              const char* ip) {
  X509* ca = read_cert(ca_pem);
  X509* leaf = read_cert(leaf_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (host != nullptr)
    X509_VERIFY_PARAM_set1_host(param, host, 0);
  if (ip != nullptr)
    X509_VERIFY_PARAM_set1_ip_asc(param, ip);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(leaf);
  X509_free(ca);
  return ok;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(certificate_authority)

BOOST_AUTO_TEST_CASE(server_certificate_verifies_for_its_names_only) {
  CertificateAuthority ca;
  auto server = ca.issue_server("cnimig-sim", {"localhost"}, {"127.0.0.1"});
  BOOST_TEST(server.cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  BOOST_TEST(server.key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
  BOOST_TEST(verifies(ca.ca_pem(), server.cert_pem, "localhost", nullptr));
  BOOST_TEST(verifies(ca.ca_pem(), server.cert_pem, nullptr, "127.0.0.1"));
  BOOST_TEST(!verifies(ca.ca_pem(), server.cert_pem, "example.com", nullptr));
  BOOST_TEST(!verifies(ca.ca_pem(), server.cert_pem, nullptr, "127.0.0.2"));
}

BOOST_AUTO_TEST_CASE(another_ca_does_not_verify) {
  CertificateAuthority ca;
  CertificateAuthority other;
  auto server = ca.issue_server("cnimig-sim", {"localhost"}, {});
  BOOST_TEST(!verifies(other.ca_pem(), server.cert_pem, "localhost", nullptr));
}

BOOST_AUTO_TEST_CASE(client_certificate_carries_user_and_groups) {
  CertificateAuthority ca;
  auto client = ca.issue_client("alice", {"system:masters"});
  X509* cert = read_cert(client.cert_pem);
  BOOST_TEST_REQUIRE(cert != nullptr);
  char cn[64] = {};
  char org[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationName, org, sizeof org);
  X509_free(cert);
  BOOST_TEST(std::string(cn) == "alice");
  BOOST_TEST(std::string(org) == "system:masters");
  BOOST_TEST(verifies(ca.ca_pem(), client.cert_pem, nullptr, nullptr));
}

BOOST_AUTO_TEST_SUITE_END()
