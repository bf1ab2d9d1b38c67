// OpenSSL's libssl, loaded with dlopen only when TLS is asked for (an https:// URL or a --tls-*
// flag), for the reason openssl_runtime.h gives: linking it would make every `zs` exec slower,
// and a `zs submit` to an http:// controller must not pay for TLS. The headers (Debian's
// libssl-dev) give the types; the functions are resolved with dlsym, libcrypto's ones (errors,
// verification messages) through libssl's handle, which depends on it.
#pragma once
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <string>

namespace zs::tls {

struct Ssl {
  // Contexts.
  decltype(&::TLS_server_method) server_method = nullptr;
  decltype(&::TLS_client_method) client_method = nullptr;
  decltype(&::SSL_CTX_new) ctx_new = nullptr;
  decltype(&::SSL_CTX_free) ctx_free = nullptr;
  decltype(&::SSL_CTX_ctrl) ctx_ctrl = nullptr;
  decltype(&::SSL_CTX_set_options) ctx_set_options = nullptr;
  decltype(&::SSL_CTX_set_num_tickets) ctx_set_num_tickets = nullptr;
  decltype(&::SSL_CTX_use_certificate_chain_file) use_certificate_chain_file = nullptr;
  decltype(&::SSL_CTX_use_PrivateKey_file) use_private_key_file = nullptr;
  decltype(&::SSL_CTX_check_private_key) check_private_key = nullptr;
  decltype(&::SSL_CTX_load_verify_locations) load_verify_locations = nullptr;
  decltype(&::SSL_CTX_set_default_verify_paths) set_default_verify_paths = nullptr;
  decltype(&::SSL_CTX_set_verify) ctx_set_verify = nullptr;
  // Connections.
  decltype(&::SSL_new) ssl_new = nullptr;
  decltype(&::SSL_free) ssl_free = nullptr;
  decltype(&::SSL_set_fd) set_fd = nullptr;
  decltype(&::SSL_accept) accept = nullptr;
  decltype(&::SSL_connect) connect = nullptr;
  decltype(&::SSL_read) read = nullptr;
  decltype(&::SSL_write) write = nullptr;
  decltype(&::SSL_get_error) get_error = nullptr;
  decltype(&::SSL_pending) pending = nullptr;
  decltype(&::SSL_shutdown) shutdown = nullptr;
  decltype(&::SSL_ctrl) ctrl = nullptr;
  decltype(&::SSL_set1_host) set1_host = nullptr;
  decltype(&::SSL_get0_param) get0_param = nullptr;
  decltype(&::SSL_get_verify_result) get_verify_result = nullptr;
  // libcrypto.
  decltype(&::X509_VERIFY_PARAM_set1_ip_asc) param_set1_ip_asc = nullptr;
  decltype(&::X509_verify_cert_error_string) verify_error_string = nullptr;
  decltype(&::ERR_get_error) err_get = nullptr;
  decltype(&::ERR_error_string_n) err_string = nullptr;
  decltype(&::ERR_clear_error) err_clear = nullptr;
};

// The loaded functions, or nullptr with `error` saying why (libssl.so.3 missing, or lacking a
// function). Loaded once, on the first call; safe from any thread.
const Ssl* ssl(std::string& error);

// Whether libssl has been loaded in this process (tests check that plain HTTP never loads it).
bool ssl_loaded();

}  // namespace zs::tls
