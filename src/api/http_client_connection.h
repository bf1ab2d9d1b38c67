// The client side of the API's HTTP/1.1: one keep-alive connection to one server, requests sent
// in one write, responses read by Content-Length. Reconnects when the server has closed an idle
// connection (checked before sending, never by sending twice). Over TLS when asked: the server's
// certificate is verified (chain and host) against tls::default_client_context(). Not
// thread-safe.
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "api/http_message.h"

namespace zs::tls {
class Session;
}

namespace zs::http {

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

class ClientFailure : public std::runtime_error {
 public:
  // refused: every address answered that nothing listens there (ECONNREFUSED), unlike a
  // connect that timed out or failed otherwise. tls: the TLS handshake failed (the certificate
  // could not be verified, the server does not speak TLS); never retried in plain text.
  enum Kind { connect, refused, write, read, tls };
  ClientFailure(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class ClientConnection {
 public:
  ClientConnection(std::string host, std::string port, int timeout_ms, bool tls = false);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  void set_timeout_ms(int ms);
  // Sent with every request ("" = none); a printable header value, checked by the caller.
  void set_authorization(std::string value) { authorization_ = std::move(value); }
  // Throws ClientFailure when no response could be had.
  ClientResponse request(std::string_view method, std::string_view target,
                         std::string_view content_type, std::string_view body);

 private:
  void open();
  void close_socket();
  // False if the connection was closed before any byte of the response came.
  bool exchange(std::string_view method, std::string_view target, std::string_view content_type,
                std::string_view body, ClientResponse& out);

  bool send_request(iovec* iov, int count);
  ssize_t receive(char* buf, std::size_t n);

  std::string host_, port_;
  int timeout_ms_;
  bool tls_;
  int fd_ = -1;
  std::unique_ptr<tls::Session> session_;
  std::string authorization_;
};

}  // namespace zs::http
