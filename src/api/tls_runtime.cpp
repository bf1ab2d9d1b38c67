#include "api/tls_runtime.h"

#include <dlfcn.h>

#include <atomic>

namespace zs::tls {
namespace {

struct Loaded {
  Ssl ssl;
  std::string error;
  bool ok = false;
};

std::atomic<bool> loaded_flag{false};

template <typename F>
bool resolve(void* lib, const char* name, F& out, std::string& missing) {
  out = reinterpret_cast<F>(::dlsym(lib, name));
  if (!out) missing += missing.empty() ? name : std::string(", ") + name;
  return out != nullptr;
}

Loaded load() {
  Loaded l;
  void* lib = ::dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    l.error = std::string("cannot load OpenSSL's libssl.so.3 (Debian package libssl3): ") +
              (why ? why : "unknown error");
    return l;
  }
  loaded_flag = true;
  // Never closed: the functions are used for the life of the process.
  std::string missing;
  Ssl& s = l.ssl;
  resolve(lib, "TLS_server_method", s.server_method, missing);
  resolve(lib, "TLS_client_method", s.client_method, missing);
  resolve(lib, "SSL_CTX_new", s.ctx_new, missing);
  resolve(lib, "SSL_CTX_free", s.ctx_free, missing);
  resolve(lib, "SSL_CTX_ctrl", s.ctx_ctrl, missing);
  resolve(lib, "SSL_CTX_set_options", s.ctx_set_options, missing);
  resolve(lib, "SSL_CTX_set_num_tickets", s.ctx_set_num_tickets, missing);
  resolve(lib, "SSL_CTX_use_certificate_chain_file", s.use_certificate_chain_file, missing);
  resolve(lib, "SSL_CTX_use_PrivateKey_file", s.use_private_key_file, missing);
  resolve(lib, "SSL_CTX_check_private_key", s.check_private_key, missing);
  resolve(lib, "SSL_CTX_load_verify_locations", s.load_verify_locations, missing);
  resolve(lib, "SSL_CTX_set_default_verify_paths", s.set_default_verify_paths, missing);
  resolve(lib, "SSL_CTX_set_verify", s.ctx_set_verify, missing);
  resolve(lib, "SSL_new", s.ssl_new, missing);
  resolve(lib, "SSL_free", s.ssl_free, missing);
  resolve(lib, "SSL_set_fd", s.set_fd, missing);
  resolve(lib, "SSL_accept", s.accept, missing);
  resolve(lib, "SSL_connect", s.connect, missing);
  resolve(lib, "SSL_read", s.read, missing);
  resolve(lib, "SSL_write", s.write, missing);
  resolve(lib, "SSL_get_error", s.get_error, missing);
  resolve(lib, "SSL_pending", s.pending, missing);
  resolve(lib, "SSL_shutdown", s.shutdown, missing);
  resolve(lib, "SSL_ctrl", s.ctrl, missing);
  resolve(lib, "SSL_set1_host", s.set1_host, missing);
  resolve(lib, "SSL_get0_param", s.get0_param, missing);
  resolve(lib, "SSL_get_verify_result", s.get_verify_result, missing);
  resolve(lib, "X509_VERIFY_PARAM_set1_ip_asc", s.param_set1_ip_asc, missing);
  resolve(lib, "X509_verify_cert_error_string", s.verify_error_string, missing);
  resolve(lib, "ERR_get_error", s.err_get, missing);
  resolve(lib, "ERR_error_string_n", s.err_string, missing);
  resolve(lib, "ERR_clear_error", s.err_clear, missing);
  if (!missing.empty()) {
    l.error = "libssl.so.3 lacks " + missing;
    return l;
  }
  l.ok = true;
  return l;
}

}  // namespace

const Ssl* ssl(std::string& error) {
  static const Loaded loaded = load();  // thread-safe initialization
  if (!loaded.ok) {
    error = loaded.error;
    return nullptr;
  }
  return &loaded.ssl;
}

bool ssl_loaded() {
  return loaded_flag;
}

}  // namespace zs::tls
