// Bearer tokens (api/auth_token.h): random, shown once, stored as SHA-256, parsed strictly.
#include "api/auth_token.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace zs {
namespace {

TEST(AuthToken, IssuedTokensParseBackAndMatchTheirHashOnly) {
  const IssuedToken t = issue_token();
  EXPECT_EQ(t.text.rfind("zs_" + t.id + "_", 0), 0u) << t.text;
  auto parts = parse_token(t.text);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->id, t.id);
  EXPECT_EQ(parts->secret.size(), 43u);  // 256 random bits
  EXPECT_TRUE(same_hash(hash_secret(parts->secret), t.hash));
  // The stored hash is not the secret, and another secret does not match it.
  EXPECT_EQ(t.hash.size(), 64u);
  EXPECT_EQ(t.text.find(t.hash), std::string::npos);
  std::string other = parts->secret;
  other[0] = other[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(same_hash(hash_secret(other), t.hash));
}

TEST(AuthToken, NoTwoAlike) {
  std::set<std::string> ids, texts;
  for (int i = 0; i < 2000; ++i) {
    const IssuedToken t = issue_token();
    ids.insert(t.id);
    texts.insert(t.text);
  }
  EXPECT_EQ(ids.size(), 2000u);
  EXPECT_EQ(texts.size(), 2000u);
}

TEST(AuthToken, Sha256IsSha256) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_secret(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AuthToken, AnythingElseIsNotAToken) {
  const std::string good = issue_token().text;
  EXPECT_TRUE(parse_token(good));
  for (std::string bad :
       {std::string(), std::string("zs_"), good.substr(1), good + "x", "xx" + good.substr(2),
        good.substr(0, 19) + "-" + good.substr(20),
        good.substr(0, 3) + "G" + good.substr(4),  // not hex
        good.substr(0, good.size() - 1) + "=",     // not base64url
        good.substr(0, good.size() - 1) + std::string(1, '\0'), std::string(1 << 20, 'a')})
    EXPECT_FALSE(parse_token(bad)) << bad.substr(0, 80);
}

TEST(AuthToken, SameHashComparesWholeStrings) {
  EXPECT_TRUE(same_hash("abc", "abc"));
  EXPECT_FALSE(same_hash("abc", "abd"));
  EXPECT_FALSE(same_hash("abc", "ab"));
  EXPECT_TRUE(same_hash("", ""));
}

}  // namespace
}  // namespace zs
