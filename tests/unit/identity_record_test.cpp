// Identity records (core/identity_record.h) and their JSON (api/json_codec.h): names, tokens'
// validity, and strict round trips.
#include "core/identity_record.h"

#include <gtest/gtest.h>

#include "api/json_codec.h"
#include "core/input_error.h"

namespace zs {
namespace {

TEST(IdentityRecord, NamesAreShortAndPlain) {
  for (const char* ok : {"vision", "a", "team-7", "x.y_z", "0day"})
    EXPECT_EQ(identity_name_problem(ok), "") << ok;
  for (const char* bad : {"", "-lead", ".hidden", "a b", "a/b", "é", "a\n"})
    EXPECT_NE(identity_name_problem(bad), "") << bad;
  EXPECT_NE(identity_name_problem(std::string(65, 'a')), "");
  EXPECT_EQ(identity_name_problem(std::string(64, 'a')), "");
}

TEST(IdentityRecord, UnixUserNamesAsUseraddTakesThem) {
  for (const char* ok : {"alice", "_svc", "build-01", "host$", "a"})
    EXPECT_EQ(unix_user_problem(ok), "") << ok;
  for (const char* bad : {"", "Alice", "1st", "-x", "a b", "a$b", "$", "root:0"})
    EXPECT_NE(unix_user_problem(bad), "") << bad;
  EXPECT_NE(unix_user_problem(std::string(33, 'a')), "");
}

TEST(IdentityRecord, ATokenIsValidUntilItExpiresOrIsRevoked) {
  TokenRecord t;
  EXPECT_TRUE(t.valid_at(1'000));
  t.expires_ms = 2'000;
  EXPECT_TRUE(t.valid_at(1'999));
  EXPECT_FALSE(t.valid_at(2'000));
  t.expires_ms = 0;
  t.revoked_ms = 500;
  EXPECT_FALSE(t.valid_at(1'000));
}

TEST(IdentityRecord, JsonRoundTripsAndRefusesWhatIsNotOne) {
  TenantRecord tenant{"vision", 1'700'000'000'000};
  EXPECT_EQ(tenant_record_from_json(to_json(tenant)), tenant);
  UserRecord user{"alice", Role::tenant_admin, {"vision", "speech"}, "alice", 1'700'000'000'001};
  EXPECT_EQ(user_record_from_json(to_json(user)), user);
  EXPECT_EQ(to_json(user)["role"], "tenant-admin");
  TokenRecord token{"0123456789abcdef", TokenKind::node, "n1", std::string(64, 'f'), 1, 2, 0};
  EXPECT_EQ(token_record_from_json(to_json(token)), token);
  EXPECT_EQ(to_json(token)["kind"], "node");

  auto field_of = [](auto decode, nlohmann::json j) {
    try {
      decode(j);
    } catch (const InputError& e) {
      return e.where();
    }
    return std::string("(accepted)");
  };
  auto user_from = [](const nlohmann::json& j) { return user_record_from_json(j); };
  auto token_from = [](const nlohmann::json& j) { return token_record_from_json(j); };
  EXPECT_EQ(field_of(user_from, {{"role", "admin"}}), "role");
  EXPECT_EQ(field_of(user_from, {{"tenants", "vision"}}), "tenants");
  EXPECT_EQ(field_of(user_from, {{"password", "x"}}), "password");
  EXPECT_EQ(field_of(token_from, {{"kind", "robot"}}), "kind");
  EXPECT_EQ(field_of(token_from, {{"expires_ms", -1}}), "expires_ms");
}

}  // namespace
}  // namespace zs
