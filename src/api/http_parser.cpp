#include "api/http_parser.h"

#include <charconv>

namespace zs::http {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_token_char(char c) {  // RFC 9110 tchar
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view list, std::string_view token) {  // "keep-alive, Upgrade"
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (same_header_name(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Splits the head into lines (CRLF), without the final blank line. False on a bare CR or LF.
template <class F>
bool for_each_line(std::string_view head, F&& f) {
  while (!head.empty()) {
    auto end = head.find("\r\n");
    if (end == std::string_view::npos) return false;
    std::string_view line = head.substr(0, end);
    head.remove_prefix(end + 2);
    if (line.empty()) return head.empty();
    if (line.find_first_of("\r\n") != std::string_view::npos) return false;
    if (!f(line)) return false;
  }
  return true;
}

// "Name: value" into `headers`; false if malformed (no colon, space before it, bad characters).
bool add_header(std::string_view line, Headers& headers) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return false;
  std::string_view value = trim(line.substr(colon + 1));
  for (char c : value)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return false;
  headers.emplace_back(std::string(name), std::string(value));
  return true;
}

std::optional<std::size_t> parse_length(std::string_view text) {
  std::size_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// The one Content-Length of a message: nullopt if absent; error if malformed or conflicting.
struct LengthHeader {
  bool present = false;
  bool valid = true;
  bool too_big = false;  // a number beyond size_t
  std::size_t value = 0;
};
LengthHeader content_length_of(const Headers& headers) {
  LengthHeader out;
  for (const auto& [name, value] : headers) {
    if (!same_header_name(name, "Content-Length")) continue;
    auto v = parse_length(value);
    if (!v) {
      bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
      if (digits) {
        out.too_big = true;
      } else {
        out.valid = false;
      }
      out.present = true;
      continue;
    }
    if (out.present && !out.too_big && out.value != *v) out.valid = false;
    out.present = true;
    out.value = *v;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

RequestParse fail(int status, std::string message) {
  RequestParse r;
  r.error = ParseError{status, std::move(message)};
  return r;
}

}  // namespace

bool same_header_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (same_header_name(k, name)) return &v;
  return nullptr;
}

const std::string* Request::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

std::size_t find_head_end(std::string_view buffer, std::size_t from) {
  from = from > 3 ? from - 3 : 0;  // the blank line may straddle the old end
  auto end = buffer.find("\r\n\r\n", from);
  return end == std::string_view::npos ? std::string_view::npos : end + 4;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

RequestParse parse_request_head(std::string_view head, const Limits& limits) {
  if (head.size() > limits.max_head_bytes)
    return fail(
        431, "the request head is larger than " + std::to_string(limits.max_head_bytes) + " bytes");
  RequestHead out;
  Request& req = out.request;
  bool first = true, version_ok = true, line_ok = true, http10 = false;
  std::string_view target;
  std::optional<ParseError> error;
  bool lines_ok = for_each_line(head, [&](std::string_view line) {
    if (!first) {
      if (req.headers.size() >= limits.max_headers) {
        error = ParseError{431, "more than " + std::to_string(limits.max_headers) + " headers"};
        return false;
      }
      return add_header(line, req.headers);
    }
    first = false;
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
      line_ok = false;
      return false;
    }
    std::string_view method = line.substr(0, sp1);
    target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || target.empty()) {
      line_ok = false;
      return false;
    }
    if (version == "HTTP/1.0") {
      http10 = true;
    } else if (version != "HTTP/1.1") {
      version_ok = false;
      return false;
    }
    req.method = std::string(method);
    return true;
  });
  if (error) return fail(error->status, error->message);
  if (!version_ok) return fail(505, "only HTTP/1.1 and HTTP/1.0 are spoken here");
  if (first || !line_ok) return fail(400, "malformed request line");
  if (!lines_ok) return fail(400, "malformed request header");
  if (target.size() > limits.max_target_bytes)
    return fail(414, "the request URI is longer than " + std::to_string(limits.max_target_bytes) +
                         " bytes");
  if (target.front() != '/') return fail(400, "the request target must be a path");

  std::string_view raw_path = target.substr(0, target.find('?'));
  auto path = percent_decode(raw_path, false);
  if (!path) return fail(400, "bad percent-encoding in the path");
  req.path = std::move(*path);
  if (raw_path.size() < target.size()) {
    std::string_view query = target.substr(raw_path.size() + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.empty()) continue;
      auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = percent_decode(
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!key || !value) return fail(400, "bad percent-encoding in the query");
      req.query.emplace_back(std::move(*key), std::move(*value));
    }
  }

  const std::string* connection = req.header("Connection");
  out.keep_alive = http10 ? connection && has_token(*connection, "keep-alive")
                          : !(connection && has_token(*connection, "close"));
  if (req.header("Transfer-Encoding"))
    return fail(411, "chunked request bodies are not accepted: send Content-Length");
  LengthHeader length = content_length_of(req.headers);
  if (!length.valid) return fail(400, "malformed Content-Length");
  if (length.too_big || (length.present && length.value > limits.max_body_bytes))
    return fail(413, "the request body is larger than the limit (" +
                         std::to_string(limits.max_body_bytes) + " bytes)");
  if (!length.present && (req.method == "POST" || req.method == "PUT"))
    return fail(411, "a " + req.method + " needs a Content-Length header (0 for no body)");
  out.content_length = length.value;
  if (const std::string* expect = req.header("Expect")) {
    if (!same_header_name(*expect, "100-continue"))
      return fail(417, "unsupported Expect: " + *expect);
    out.expect_continue = !http10;
  }
  RequestParse r;
  r.head = std::move(out);
  return r;
}

std::optional<ResponseHead> parse_response_head(std::string_view head) {
  ResponseHead out;
  bool first = true, http10 = false;
  bool ok = for_each_line(head, [&](std::string_view line) {
    if (!first) return add_header(line, out.headers);
    first = false;
    // "HTTP/1.1 200 OK"
    if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[8] != ' ') return false;
    std::string_view version = line.substr(0, 8);
    if (version == "HTTP/1.0") {
      http10 = true;
    } else if (version != "HTTP/1.1") {
      return false;
    }
    std::string_view code = line.substr(9, 3);
    if (code.find_first_not_of("0123456789") != std::string_view::npos) return false;
    if (line.size() > 12 && line[12] != ' ') return false;
    out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    return out.status >= 100;
  });
  if (!ok || first) return std::nullopt;
  if (find_header(out.headers, "Transfer-Encoding")) return std::nullopt;  // we never send it
  LengthHeader length = content_length_of(out.headers);
  if (!length.valid || length.too_big) return std::nullopt;
  if (length.present) out.content_length = length.value;
  const std::string* connection = find_header(out.headers, "Connection");
  out.keep_alive = http10 ? connection && has_token(*connection, "keep-alive")
                          : !(connection && has_token(*connection, "close"));
  if (!length.present) out.keep_alive = false;
  return out;
}

}  // namespace zs::http
