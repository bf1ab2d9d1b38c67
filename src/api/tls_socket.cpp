#include "api/tls_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include "api/tls_runtime.h"

namespace zs::tls {
namespace {

// OpenSSL writes with write(2), which raises SIGPIPE on a connection the peer has reset. The
// daemons ignore SIGPIPE, but the CLI and tests need not: the signal is blocked around each
// call, and one it raised is consumed before the mask is restored.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~NoSigpipe() {
    if (!was_pending_) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGPIPE);
      const timespec zero{};
      while (sigtimedwait(&set, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

const Ssl& load_or_throw() {
  std::string error;
  const Ssl* s = ssl(error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

// OpenSSL's queued errors as one line ("" when none), the queue emptied.
std::string queued_errors(const Ssl& s) {
  std::string out;
  while (unsigned long e = s.err_get()) {
    char buf[256];
    s.err_string(e, buf, sizeof buf);
    // "error:0A000086:SSL routines::certificate verify failed" -> after the last "::" or ':'.
    std::string text = buf;
    if (auto at = text.rfind("::"); at != std::string::npos) text = text.substr(at + 2);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

// A private key must be its owner's alone, like a token file (token_file.cpp).
void check_key_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error("cannot read the TLS key " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("the TLS key " + path + " is not a file");
  if (st.st_uid != ::geteuid() && st.st_uid != 0)
    throw std::runtime_error("the TLS key " + path + " belongs to another user (uid " +
                             std::to_string(st.st_uid) + "): a key file must be your own");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    throw std::runtime_error("the TLS key " + path + " is " +
                             ((st.st_mode & 044) != 0 ? "readable" : "writable") +
                             " by other users (mode " + mode + "): chmod 600 " + path);
  }
}

SSL_CTX* new_context(const Ssl& s, bool server) {
  SSL_CTX* ctx = s.ctx_new(server ? s.server_method() : s.client_method());
  if (!ctx) throw std::runtime_error("cannot create a TLS context: " + queued_errors(s));
  s.ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  // Partial writes: the listener writes what the socket takes and the event loop the rest, from
  // a buffer that may move (a std::string handed from a worker to the loop).
  s.ctx_ctrl(
      ctx, SSL_CTRL_MODE,
      SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY,
      nullptr);
  // No renegotiation (a client could make the server work on demand); a peer that closes
  // without close_notify has closed (every answer has a Content-Length, so nothing is cut short
  // unnoticed).
  s.ctx_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
  return ctx;
}

}  // namespace

// ---- Context ----------------------------------------------------------------------------------

std::shared_ptr<Context> Context::server(const std::string& cert_file,
                                         const std::string& key_file) {
  check_key_file(key_file);
  const Ssl& s = load_or_throw();
  SSL_CTX* ctx = new_context(s, true);
  std::shared_ptr<Context> c(new Context(&s, ctx));
  s.err_clear();
  // No session tickets: resumption is not used, and a TLS 1.3 ticket arriving after the
  // handshake would look like data on an idle client connection.
  s.ctx_set_num_tickets(ctx, 0);
  if (s.use_certificate_chain_file(ctx, cert_file.c_str()) != 1)
    throw std::runtime_error("cannot use the TLS certificate " + cert_file + ": " +
                             queued_errors(s) + " (expected PEM, the server's certificate first)");
  if (s.use_private_key_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error("cannot use the TLS key " + key_file + ": " + queued_errors(s) +
                             " (expected an unencrypted PEM private key)");
  if (s.check_private_key(ctx) != 1)
    throw std::runtime_error("the TLS key " + key_file + " does not match the certificate " +
                             cert_file);
  return c;
}

std::shared_ptr<Context> Context::client(const std::string& ca_file) {
  const Ssl& s = load_or_throw();
  SSL_CTX* ctx = new_context(s, false);
  std::shared_ptr<Context> c(new Context(&s, ctx));
  s.err_clear();
  s.ctx_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!ca_file.empty()) {
    if (::access(ca_file.c_str(), R_OK) != 0)
      throw std::runtime_error("cannot read the CA file " + ca_file + ": " + std::strerror(errno));
    if (s.load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1)
      throw std::runtime_error("cannot use the CA file " + ca_file + ": " + queued_errors(s) +
                               " (expected PEM certificates)");
  } else if (s.set_default_verify_paths(ctx) != 1) {
    throw std::runtime_error("cannot load the system's CA store: " + queued_errors(s));
  }
  return c;
}

Context::~Context() {
  ssl_->ctx_free(ctx_);
}

// ---- Session ----------------------------------------------------------------------------------

std::unique_ptr<Session> Session::server(const Context& ctx, int fd, std::string& error) {
  const Ssl& s = ctx.ssl();
  SSL* ssl = s.ssl_new(ctx.get());
  if (!ssl || s.set_fd(ssl, fd) != 1) {
    error = "cannot create a TLS connection: " + queued_errors(s);
    if (ssl) s.ssl_free(ssl);
    return nullptr;
  }
  return std::unique_ptr<Session>(new Session(&s, ssl, true));
}

std::unique_ptr<Session> Session::client(const Context& ctx, int fd, const std::string& host,
                                         std::string& error) {
  const Ssl& s = ctx.ssl();
  s.err_clear();
  SSL* ssl = s.ssl_new(ctx.get());
  if (!ssl || s.set_fd(ssl, fd) != 1) {
    error = "cannot create a TLS connection: " + queued_errors(s);
    if (ssl) s.ssl_free(ssl);
    return nullptr;
  }
  std::unique_ptr<Session> session(new Session(&s, ssl, false));
  // An IP address is matched against the certificate's IP names; a DNS name against its DNS
  // names, and sent as SNI.
  in6_addr any;
  const bool is_ip =
      inet_pton(AF_INET, host.c_str(), &any) == 1 || inet_pton(AF_INET6, host.c_str(), &any) == 1;
  const bool named = is_ip
                         ? s.param_set1_ip_asc(s.get0_param(ssl), host.c_str()) == 1
                         : s.set1_host(ssl, host.c_str()) == 1 &&
                               s.ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                      const_cast<char*>(host.c_str())) == 1;
  if (!named) {
    error = "cannot check the server's certificate against '" + host + "': " + queued_errors(s);
    return nullptr;
  }
  return session;
}

Session::~Session() {
  ssl_->ssl_free(s_);
}

Session::Step Session::handshake() {
  if (established_) return Step::done;
  NoSigpipe guard;
  ssl_->err_clear();
  errno = 0;
  const int rc = server_ ? ssl_->accept(s_) : ssl_->connect(s_);
  if (rc == 1) {
    established_ = true;
    return Step::done;
  }
  const int saved_errno = errno;
  switch (ssl_->get_error(s_, rc)) {
    case SSL_ERROR_WANT_READ:
      return Step::want_read;
    case SSL_ERROR_WANT_WRITE:
      return Step::want_write;
    case SSL_ERROR_SYSCALL:
      error_ = saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE
                   ? "the connection closed during the TLS handshake"
                   : std::string("TLS handshake: ") + std::strerror(saved_errno);
      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
        error_ = "timed out during the TLS handshake";
      ssl_->err_clear();
      return Step::failed;
    default: {
      const long verify = server_ ? X509_V_OK : ssl_->get_verify_result(s_);
      std::string queued = queued_errors(*ssl_);
      if (verify != X509_V_OK)
        error_ = std::string("certificate verify failed: ") + ssl_->verify_error_string(verify);
      else
        error_ = queued.empty() ? "the TLS handshake failed" : "TLS handshake: " + queued;
      return Step::failed;
    }
  }
}

ssize_t Session::fail(int rc) {
  const int saved_errno = errno;
  want_write_ = false;
  switch (ssl_->get_error(s_, rc)) {
    case SSL_ERROR_WANT_READ:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_SYSCALL:
      ssl_->err_clear();
      if (saved_errno == 0) return 0;  // the peer closed
      error_ = std::strerror(saved_errno);
      // A socket timeout of the blocking client: say so, unlike a retry of a non-blocking one.
      errno = saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ? ETIMEDOUT : saved_errno;
      return -1;
    default:
      error_ = "TLS: " + queued_errors(*ssl_);
      errno = EPROTO;
      return -1;
  }
}

ssize_t Session::read(char* buf, std::size_t n) {
  NoSigpipe guard;
  ssl_->err_clear();
  errno = 0;
  const int rc = ssl_->read(s_, buf, static_cast<int>(std::min<std::size_t>(n, 1u << 30)));
  if (rc > 0) return rc;
  return fail(rc);
}

ssize_t Session::write(const char* buf, std::size_t n) {
  if (n == 0) return 0;
  NoSigpipe guard;
  ssl_->err_clear();
  errno = 0;
  const int rc = ssl_->write(s_, buf, static_cast<int>(std::min<std::size_t>(n, 1u << 30)));
  if (rc > 0) return rc;
  const ssize_t r = fail(rc);
  if (r == 0) errno = EPIPE;  // nothing written to a closed connection is a failure
  return -1;
}

bool Session::pending() const {
  return ssl_->pending(s_) > 0;
}

void Session::close_notify() {
  if (!established_) return;
  NoSigpipe guard;
  ssl_->err_clear();
  ssl_->shutdown(s_);
  ssl_->err_clear();
}

// ---- the process's client settings -----------------------------------------------------------

namespace {
std::mutex client_mu;
std::string client_ca_flag;
std::map<std::string, std::shared_ptr<Context>> client_contexts;
}  // namespace

void set_client_ca_file(const std::string& path) {
  std::lock_guard lock(client_mu);
  client_ca_flag = path;
}

std::string client_ca_file() {
  std::lock_guard lock(client_mu);
  if (!client_ca_flag.empty()) return client_ca_flag;
  if (const char* env = std::getenv("ZS_CA_FILE"); env && *env) return env;
  return "";
}

std::shared_ptr<Context> default_client_context() {
  const std::string ca = client_ca_file();
  std::lock_guard lock(client_mu);
  auto& slot = client_contexts[ca];
  if (!slot) slot = Context::client(ca);
  return slot;
}

}  // namespace zs::tls
