#pragma once
// A throw-away certificate authority made in memory: the simulator serves
// HTTPS with a certificate it issues, and tests build TLS peers (including
// deliberately wrong ones) from it. Keys are ECDSA P-256: fast to generate.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace cnimig::net {

struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 PEM; a secret: never log it
};

class CertificateAuthority {
 public:
  // Creates a new self-signed CA; throws ErrorException(Errc::tls) if OpenSSL fails.
  explicit CertificateAuthority(std::string common_name = "cnimig test CA",
                                std::chrono::hours validity = std::chrono::hours(24 * 30));
  ~CertificateAuthority();
  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;

  const std::string& ca_pem() const;

  // A serving certificate (serverAuth) with the given DNS and IP subject alternative names.
  IssuedCertificate issue_server(const std::string& common_name,
                                 const std::vector<std::string>& dns_sans,
                                 const std::vector<std::string>& ip_sans) const;

  // A client certificate (clientAuth); Kubernetes reads the user from CN and groups from O.
  IssuedCertificate issue_client(const std::string& common_name,
                                 const std::vector<std::string>& organizations) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cnimig::net
