// An error the HTTP API answers with a status code and a JSON body
// {"error":{"code":..., "message":..., "field":...}}. Bad input (InputError) maps to 400.
#pragma once
#include <stdexcept>
#include <string>

namespace zs {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message, std::string field = "")
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        field_(std::move(field)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }

  static ApiError not_found(const std::string& what) { return {404, "not_found", what}; }
  static ApiError conflict(const std::string& what) { return {409, "conflict", what}; }
  static ApiError unavailable(const std::string& what) { return {503, "unavailable", what}; }

 private:
  int status_;
  std::string code_;
  std::string field_;
};

}  // namespace zs
