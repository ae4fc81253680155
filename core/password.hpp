// Passwords and secret tokens (libsodium).
//
// - Passwords (chosen by people) are stored as Argon2id strings from crypto_pwhash_str with the
//   INTERACTIVE limits (about 0.1 s per hash on the reference machine); the string carries its
//   own salt and parameters, so verify() needs nothing else.
// - Tokens (session tokens, monitor keys) are random, high-entropy values; storing their SHA-256
//   is enough (no salt or stretching needed) and lets the database look them up by hash.
//
// All functions are thread-safe. Secrets are never logged.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace timepool::password {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An Argon2id hash string ("$argon2id$v=19$m=...") of `password`. Throws Error when libsodium
// cannot allocate the memory the hash needs.
std::string hash(std::string_view password);

// True when `password` matches `hashed` (a string from hash()); false for a wrong password or a
// malformed hash string.
bool verify(std::string_view password, std::string_view hashed);

// `bytes` random bytes from the system CSPRNG, as 2*bytes lower-case hex characters.
std::string random_token(std::size_t bytes = 32);

// A password for a person to type: `length` characters drawn uniformly from a 32-symbol
// alphabet without look-alikes (no 0/O, 1/l/I), 5 bits each: the default 24 give 120 bits.
std::string random_password(std::size_t length = 24);

// Lower-case hex SHA-256 of `token`, for storing and looking up high-entropy tokens.
std::string hash_token(std::string_view token);

// Lower-case hex SHA-256 of arbitrary text (checksums).
std::string sha256_hex(std::string_view data);

// Compares two strings in time independent of where they differ.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace timepool::password
