// Reading a credential from a file (issue 15): `zs --token-file F`, `~/.config/zs/token`,
// `zs agent --token-file F`. As ssh does with private keys, a file that other users could read
// (or write) is refused rather than used, with the command that fixes it; so is a file owned by
// someone else, anything but a regular file, and anything that is not one short line.
#pragma once
#include <string>

namespace zs {

// The credential in `path` (surrounding whitespace and the final newline removed). Throws
// InputError(where, ...) naming the file and what to do, e.g. "/home/a/t is readable by other
// users (mode 0644): chmod 600 /home/a/t".
std::string read_token_file(const std::string& path, const std::string& where);

// Writes `token` and a newline to `path`, mode 0600, atomically (a temporary file, fsync,
// rename), creating missing parent directories with mode 0700. Throws InputError(where, ...).
void write_token_file(const std::string& path, const std::string& token, const std::string& where);

}  // namespace zs
