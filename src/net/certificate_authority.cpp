#include "cnimig/net/certificate_authority.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cnimig/common/error.hpp"

namespace cnimig::net {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void fail(const char* what) {
  std::string message = std::string("certificate authority: ") + what;
  if (unsigned long code = ERR_get_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  throw ErrorException(make_error(Errc::tls, std::move(message)));
}

void check(int ok, const char* what) {
  if (ok != 1)
    fail(what);
}

Pkey make_key() {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key)
    fail("generating key");
  return key;
}

std::string to_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert), "writing certificate");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string to_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "writing key");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

void set_name(X509_NAME* name, const std::string& common_name,
              const std::vector<std::string>& organizations) {
  for (const auto& org : organizations) {
    check(
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0),
        "setting organization");
  }
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0),
        "setting common name");
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr)
    fail("building extension");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok, "adding extension");
}

// A certificate for `key` with a random serial, valid from an hour ago (clock
// skew between peers) until `validity` from now.
Cert new_certificate(EVP_PKEY* key, std::chrono::hours validity) {
  Cert cert(X509_new());
  if (!cert)
    fail("allocating certificate");
  check(X509_set_version(cert.get(), 2), "setting version");
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial), "making serial");
  serial[0] &= 0x7f;  // keep the serial positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(bn);
    fail("setting serial");
  }
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(
      X509_getm_notAfter(cert.get()),
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(validity).count()));
  check(X509_set_pubkey(cert.get(), key), "setting public key");
  return cert;
}

}  // namespace

struct CertificateAuthority::State {
  Pkey key;
  Cert cert;
  std::string pem;
  std::chrono::hours validity;
};

CertificateAuthority::CertificateAuthority(std::string common_name, std::chrono::hours validity)
    : state_(std::make_unique<State>()) {
  state_->validity = validity;
  state_->key = make_key();
  state_->cert = new_certificate(state_->key.get(), validity);
  X509* cert = state_->cert.get();
  set_name(X509_get_subject_name(cert), common_name, {});
  check(X509_set_issuer_name(cert, X509_get_subject_name(cert)), "setting issuer");
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  if (X509_sign(cert, state_->key.get(), EVP_sha256()) <= 0)
    fail("signing CA certificate");
  state_->pem = to_pem(cert);
}

CertificateAuthority::~CertificateAuthority() = default;
CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;

const std::string& CertificateAuthority::ca_pem() const {
  return state_->pem;
}

namespace {

IssuedCertificate issue(const Pkey& ca_key, const Cert& ca_cert, std::chrono::hours validity,
                        const std::string& common_name,
                        const std::vector<std::string>& organizations,
                        const std::string& extended_usage, const std::string& sans) {
  Pkey key = make_key();
  Cert cert = new_certificate(key.get(), validity);
  set_name(X509_get_subject_name(cert.get()), common_name, organizations);
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())), "setting issuer");
  add_extension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca_cert.get(), NID_key_usage,
                "critical,digitalSignature,keyEncipherment");
  add_extension(cert.get(), ca_cert.get(), NID_ext_key_usage, extended_usage);
  add_extension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  if (!sans.empty())
    add_extension(cert.get(), ca_cert.get(), NID_subject_alt_name, sans);
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0)
    fail("signing certificate");
  return IssuedCertificate{to_pem(cert.get()), to_pem(key.get())};
}

}  // namespace

IssuedCertificate CertificateAuthority::issue_server(
    const std::string& common_name, const std::vector<std::string>& dns_sans,
    const std::vector<std::string>& ip_sans) const {
  std::string sans;
  for (const auto& dns : dns_sans)
    sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : ip_sans)
    sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  return issue(state_->key, state_->cert, state_->validity, common_name, {}, "serverAuth", sans);
}

IssuedCertificate CertificateAuthority::issue_client(
    const std::string& common_name, const std::vector<std::string>& organizations) const {
  return issue(state_->key, state_->cert, state_->validity, common_name, organizations,
               "clientAuth", "");
}

}  // namespace cnimig::net
