#include "core/password.hpp"

#include <sodium.h>

#include <vector>

namespace timepool::password {
namespace {

// sodium_init() is thread-safe and idempotent; it must run before any other libsodium call.
void init() {
  static const int rc = sodium_init();
  if (rc < 0) throw Error("libsodium could not be initialized");
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();  // the terminating NUL sodium_bin2hex writes
  return out;
}

}  // namespace

std::string hash(std::string_view password) {
  init();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw Error("password hashing failed (out of memory)");
  }
  return std::string(out);
}

bool verify(std::string_view password, std::string_view hashed) {
  init();
  // crypto_pwhash_str_verify wants a NUL-terminated string of at most STRBYTES - 1 chars.
  if (hashed.empty() || hashed.size() >= crypto_pwhash_STRBYTES) return false;
  std::string h(hashed);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

std::string random_token(std::size_t bytes) {
  init();
  if (bytes == 0) return "";
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  std::string out = to_hex(buf.data(), buf.size());
  sodium_memzero(buf.data(), buf.size());
  return out;
}

std::string random_password(std::size_t length) {
  init();
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  static_assert(sizeof kAlphabet - 1 == 32);
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) out += kAlphabet[randombytes_uniform(32)];
  return out;
}

std::string sha256_hex(std::string_view data) {
  init();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(digest, sizeof digest);
}

std::string hash_token(std::string_view token) { return sha256_hex(token); }

bool equal_constant_time(std::string_view a, std::string_view b) {
  init();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace timepool::password
