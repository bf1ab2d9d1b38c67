// Parsing of HTTP/1.1 message heads, shared by the server and the client. Pure functions over a
// buffer: no sockets, so the fuzzer and the unit tests drive them directly.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_message.h"

namespace zs::http {

struct Limits {
  std::size_t max_head_bytes = 64 * 1024;   // request line + headers; more gets 431
  std::size_t max_target_bytes = 8 * 1024;  // the URI; more gets 414
  std::size_t max_headers = 100;
  std::size_t max_body_bytes = 48u << 20;  // more gets 413
};

// Where the head ends: the offset just past the blank line, or npos while incomplete. `from`:
// the bytes before it were searched already (a head that arrives a byte at a time is then
// scanned once, not once per byte).
std::size_t find_head_end(std::string_view buffer, std::size_t from = 0);

// A request the server cannot take: the status to answer with and why.
struct ParseError {
  int status;
  std::string message;
};

struct RequestHead {
  Request request;  // method, path, query and headers; body still empty
  std::size_t content_length = 0;
  bool keep_alive = true;        // HTTP/1.1 default, "Connection: close" or HTTP/1.0 turn it off
  bool expect_continue = false;  // "Expect: 100-continue": answer 100 before reading the body
};

// Parses one request head (`head` ends with the blank line). Checks the limits, that a POST or
// PUT announces its length (chunked bodies are refused with 411), and decodes path and query.
// Either `head` or `error` is set.
struct RequestParse {
  std::optional<RequestHead> head;
  std::optional<ParseError> error;
};
RequestParse parse_request_head(std::string_view head, const Limits& limits);

struct ResponseHead {
  int status = 0;
  Headers headers;
  std::optional<std::size_t> content_length;  // absent: the body runs to the end of the stream
  bool keep_alive = true;
};
// Parses a response head; nullopt for anything malformed.
std::optional<ResponseHead> parse_response_head(std::string_view head);

// Percent-decoding; `plus_is_space` for query strings. nullopt for a bad escape or a NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace zs::http
