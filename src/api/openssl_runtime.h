// OpenSSL's libcrypto, loaded when first needed (dlopen) rather than linked. Every `zs` command
// is one binary, and linking libcrypto made each exec about 0.5 ms slower on this machine
// (a C program with and without -lcrypto: 536 vs 1,082 us per exec): a cost every `zs submit`
// and `zs queue` would pay, though only the controller hashes tokens. The library is Debian's
// libssl3 (libcrypto.so.3); its headers give the types.
#pragma once
#include <openssl/evp.h>

#include <string>

namespace zs::openssl {

struct Crypto {
  decltype(&::EVP_Digest) digest = nullptr;
  decltype(&::EVP_sha256) sha256 = nullptr;
};

// The loaded functions, or nullptr with `error` saying why (libcrypto.so.3 missing). Loaded
// once; safe from any thread.
const Crypto* crypto(std::string& error);

}  // namespace zs::openssl
