// TLS over one socket, for the HTTP listener (non-blocking: the event loop drives handshakes,
// reads and writes, and waits on epoll whenever OpenSSL wants to) and for the client (a blocking
// socket with timeouts). libssl is loaded when the first context is made (tls_runtime.h).
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace zs::tls {

struct Ssl;

// An SSL_CTX: shared by every connection made from it (OpenSSL allows that across threads).
class Context {
 public:
  // A server with a certificate chain (PEM, leaf first) and its private key. The key must be
  // readable by its owner only. Throws std::runtime_error saying which file and what to do.
  static std::shared_ptr<Context> server(const std::string& cert_file, const std::string& key_file);
  // A client that verifies servers against `ca_file` (PEM; "" = the system's CA store).
  static std::shared_ptr<Context> client(const std::string& ca_file);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Ssl& ssl() const { return *ssl_; }
  SSL_CTX* get() const { return ctx_; }

 private:
  Context(const Ssl* ssl, SSL_CTX* ctx) : ssl_(ssl), ctx_(ctx) {}
  const Ssl* ssl_;
  SSL_CTX* ctx_;
};

// One TLS connection over `fd` (which it does not own or close).
class Session {
 public:
  enum class Step { done, want_read, want_write, failed };

  // nullptr (with `error`) when OpenSSL cannot make one.
  static std::unique_ptr<Session> server(const Context& ctx, int fd, std::string& error);
  // Verifies the server's chain, and that its certificate names `host` (a DNS name, or an IP
  // address matched against its IP subjectAltNames).
  static std::unique_ptr<Session> client(const Context& ctx, int fd, const std::string& host,
                                         std::string& error);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Advances the handshake (SSL_accept or SSL_connect). After `failed`, error() says why.
  Step handshake();
  bool established() const { return established_; }
  // Like recv/send: > 0 bytes; 0 when the peer closed; -1 with errno EAGAIN when OpenSSL must
  // wait for the socket (want_read() says which way), or another errno (error() says why).
  ssize_t read(char* buf, std::size_t n);
  ssize_t write(const char* buf, std::size_t n);
  bool want_write() const { return want_write_; }
  // Decrypted bytes OpenSSL holds that the socket will not signal again.
  bool pending() const;
  // Sends close_notify if the socket takes it now; never waits.
  void close_notify();
  const std::string& error() const { return error_; }

 private:
  Session(const Ssl* ssl, SSL* s, bool server) : ssl_(ssl), s_(s), server_(server) {}
  // Maps an SSL_* result <= 0 to errno (and error_); returns -1, or 0 for a clean close.
  ssize_t fail(int rc);
  const Ssl* ssl_;
  SSL* s_;
  bool server_;
  bool established_ = false;
  bool want_write_ = false;
  std::string error_;
};

// The CA file clients verify servers with: set_client_ca_file's, else $ZS_CA_FILE, else "" (the
// system's store). Process-wide: --ca-file of the CLI and agents, --agents-ca-file of the
// controller.
void set_client_ca_file(const std::string& path);
std::string client_ca_file();
// The client context for client_ca_file(), made once per CA file. Throws std::runtime_error.
std::shared_ptr<Context> default_client_context();

}  // namespace zs::tls
