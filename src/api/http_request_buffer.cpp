#include "api/http_request_buffer.h"

#include <algorithm>

namespace zs::http {

char* RequestBuffer::space(std::size_t n) {
  filled_ = buf_.size();
  buf_.resize(filled_ + n);
  return buf_.data() + filled_;
}

void RequestBuffer::commit(std::size_t k) {
  buf_.resize(filled_ + k);
}

void RequestBuffer::append(std::string_view bytes) {
  buf_.append(bytes);
}

RequestBuffer::Status RequestBuffer::check(const Limits& limits, const RequestTimeouts& timeouts,
                                           Clock::time_point now) {
  if (error_) return Status::failed;
  if (!head_) {
    if (buf_.empty()) return Status::empty;
    if (first_byte_ == Clock::time_point::max()) {
      first_byte_ = now;
      deadline_ = now + timeouts.whole;
    }
    const std::size_t end = find_head_end(buf_, scanned_);
    if (end == std::string::npos) {
      scanned_ = buf_.size();
      if (buf_.size() > limits.max_head_bytes) {
        error_ = ParseError{431, "the request head is larger than " +
                                     std::to_string(limits.max_head_bytes) + " bytes"};
        return Status::failed;
      }
      return Status::partial;
    }
    RequestParse parsed = parse_request_head(std::string_view(buf_).substr(0, end), limits);
    if (parsed.error) {
      error_ = std::move(parsed.error);
      return Status::failed;
    }
    head_ = std::move(parsed.head);
    head_end_ = end;
    need_ = end + head_->content_length;
    const std::size_t per_second = std::max<std::size_t>(1, timeouts.bytes_per_extra_second);
    deadline_ = first_byte_ + timeouts.whole +
                std::chrono::seconds(static_cast<long long>(head_->content_length / per_second));
    continue_due_ = head_->expect_continue;
  }
  if (buf_.size() >= need_) return Status::ready;
  return Status::partial;
}

std::size_t RequestBuffer::missing() const {
  return head_ && buf_.size() < need_ ? need_ - buf_.size() : 0;
}

bool RequestBuffer::take_continue() {
  if (!continue_due_ || !head_ || buf_.size() >= need_) return false;
  continue_due_ = false;
  return true;
}

Request RequestBuffer::take(bool& keep_alive) {
  Request req = std::move(head_->request);
  keep_alive = head_->keep_alive;
  req.body.assign(buf_, head_end_, head_->content_length);
  buf_.erase(0, need_);
  // A kept-alive connection that sent a large body once must not keep its memory while idle.
  if (buf_.capacity() > (1u << 20) && buf_.size() < (64u << 10)) buf_ = std::string(buf_);
  head_.reset();
  scanned_ = head_end_ = need_ = 0;
  first_byte_ = deadline_ = Clock::time_point::max();
  continue_due_ = false;
  return req;
}

}  // namespace zs::http
