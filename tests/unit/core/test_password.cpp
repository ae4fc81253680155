// core/password: Argon2id hashes that verify only the right password, tokens and their hashes.
#include <catch2/catch.hpp>

#include <set>

#include "core/migrate.hpp"
#include "core/password.hpp"

namespace pw = timepool::password;

TEST_CASE("Argon2id hash verifies the right password only", "[password]") {
  auto h = pw::hash("correct horse battery staple");
  CHECK(h.rfind("$argon2id$", 0) == 0);
  CHECK(pw::verify("correct horse battery staple", h));
  CHECK_FALSE(pw::verify("correct horse battery stapl", h));
  CHECK_FALSE(pw::verify("", h));
  // Salted: the same password hashes differently each time, and both verify.
  auto h2 = pw::hash("correct horse battery staple");
  CHECK(h2 != h);
  CHECK(pw::verify("correct horse battery staple", h2));
  // Interactive limits (libsodium: ops 2, 64 MiB).
  CHECK(h.find("m=65536,t=2") != std::string::npos);
}

TEST_CASE("verify rejects malformed hashes without crashing", "[password]") {
  CHECK_FALSE(pw::verify("x", ""));
  CHECK_FALSE(pw::verify("x", "not a hash"));
  CHECK_FALSE(pw::verify("x", "$argon2id$v=19$m=65536,t=2,p=1$"));
  CHECK_FALSE(pw::verify("x", std::string(1000, 'a')));
  // Embedded NUL and a password with one: compared by length, not as C strings.
  auto h = pw::hash(std::string("a\0b", 3));
  CHECK(pw::verify(std::string("a\0b", 3), h));
  CHECK_FALSE(pw::verify("a", h));
}

TEST_CASE("random tokens are hex of the requested size and differ", "[password]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = pw::random_token(32);
    CHECK(t.size() == 64);
    CHECK(t.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(t);
  }
  CHECK(seen.size() == 100);
  CHECK(pw::random_token(1).size() == 2);
  CHECK(pw::random_token(0).empty());
}

TEST_CASE("generated passwords use the unambiguous alphabet", "[password]") {
  auto p = pw::random_password();
  CHECK(p.size() == 24);
  CHECK(p.find_first_of("01loOIL") == std::string::npos);
  CHECK(pw::random_password(40).size() == 40);
  CHECK(pw::random_password() != pw::random_password());
}

TEST_CASE("hash_token is hex SHA-256", "[password]") {
  // FIPS 180-2 test vectors.
  CHECK(pw::hash_token("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(pw::hash_token("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(pw::sha256_hex("abc") == pw::hash_token("abc"));
}

TEST_CASE("constant-time comparison", "[password]") {
  CHECK(pw::equal_constant_time("abc", "abc"));
  CHECK_FALSE(pw::equal_constant_time("abc", "abd"));
  CHECK_FALSE(pw::equal_constant_time("abc", "abcd"));
  CHECK(pw::equal_constant_time("", ""));
}

TEST_CASE("migration errors: character position to line", "[migrate]") {
  using timepool::line_at_position;
  const std::string text = "ab\ncd\n\nef";
  CHECK(line_at_position(text, 1) == 1);
  CHECK(line_at_position(text, 3) == 1);  // the newline belongs to its line
  CHECK(line_at_position(text, 4) == 2);
  CHECK(line_at_position(text, 7) == 3);
  CHECK(line_at_position(text, 8) == 4);
  CHECK(line_at_position(text, 0) == 0);
  CHECK(line_at_position(text, 99) == 0);
  // Positions count characters: "ä" is two bytes but one position.
  const std::string utf8 = "\xc3\xa4\xc3\xa4\n\xc3\xa4x";
  CHECK(line_at_position(utf8, 3) == 1);
  CHECK(line_at_position(utf8, 4) == 2);
  CHECK(line_at_position(utf8, 5) == 2);
}
