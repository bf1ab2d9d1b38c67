#include "api/openssl_runtime.h"

#include <dlfcn.h>

#include <mutex>

namespace zs::openssl {
namespace {

struct Loaded {
  Crypto crypto;
  std::string error;
  bool ok = false;
};

Loaded load() {
  Loaded l;
  void* lib = ::dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    l.error = std::string("cannot load OpenSSL's libcrypto.so.3 (Debian package libssl3): ") +
              (why ? why : "unknown error");
    return l;
  }
  // Never closed: the functions are used for the life of the process.
  l.crypto.digest = reinterpret_cast<decltype(l.crypto.digest)>(::dlsym(lib, "EVP_Digest"));
  l.crypto.sha256 = reinterpret_cast<decltype(l.crypto.sha256)>(::dlsym(lib, "EVP_sha256"));
  if (!l.crypto.digest || !l.crypto.sha256) {
    l.error = "libcrypto.so.3 lacks EVP_Digest or EVP_sha256";
    return l;
  }
  l.ok = true;
  return l;
}

}  // namespace

const Crypto* crypto(std::string& error) {
  static const Loaded loaded = load();  // thread-safe initialization
  if (!loaded.ok) {
    error = loaded.error;
    return nullptr;
  }
  return &loaded.crypto;
}

}  // namespace zs::openssl
