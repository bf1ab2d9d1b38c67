#include "core/identity_record.h"

namespace zs {

std::string_view to_string(TokenKind kind) {
  return kind == TokenKind::node ? "node" : "user";
}

std::optional<TokenKind> token_kind_from_string(std::string_view text) {
  if (text == "user") return TokenKind::user;
  if (text == "node") return TokenKind::node;
  return std::nullopt;
}

std::string identity_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 64) return "a name has 1 to 64 characters";
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return "a name starts with a letter or a digit";
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '_' && c != '-')
      return "a name uses letters, digits, '.', '_' and '-' only";
  return "";
}

std::string unix_user_problem(std::string_view name) {
  if (name.empty() || name.size() > 32) return "a Unix user name has 1 to 32 characters";
  const bool dollar = name.back() == '$';
  const std::string_view body = dollar ? name.substr(0, name.size() - 1) : name;
  if (body.empty()) return "not a Unix user name";
  auto lower = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  if (!lower(body.front())) return "a Unix user name starts with a lowercase letter or '_'";
  for (char c : body)
    if (!lower(c) && !(c >= '0' && c <= '9') && c != '-')
      return "a Unix user name uses lowercase letters, digits, '_' and '-' only";
  return "";
}

}  // namespace zs
