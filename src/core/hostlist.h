// Slurm hostlists, as --nodelist/-w and --exclude/-x take them: "node[1-3,5]", "gpu07,gpu09",
// "rack[1-2]-n[01-04]" (several bracket groups: every combination). Pure.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zs {

// More names than this in one list is a typo ("node[1-100000000]"), not a request.
inline constexpr std::size_t kMaxHostlistNames = 10'000;  // the API's list limit
inline constexpr std::size_t kMaxNodeNameBytes = 255;

// True for a node name as hostlists and the controller accept it: 1..255 bytes of letters,
// digits, '-', '_' and '.', starting with a letter or digit.
bool valid_node_name(std::string_view name);

// Expands a hostlist: comma-separated entries (commas inside brackets belong to the range),
// each literal text and bracket groups of comma-separated numbers and ranges "A-B". A range
// whose lower bound has leading zeros keeps that width ("[08-10]" -> 08, 09, 10). Names come
// out in the order written, duplicates dropped. Throws InputError(where, ...) on a malformed
// list, a bad name, a descending range, or more than kMaxHostlistNames names.
std::vector<std::string> parse_hostlist(std::string_view text, const std::string& where);

// The reverse, for display: names sharing a prefix and a numeric suffix of the same width are
// folded into ranges ("node1,node2,node3,node5" -> "node[1-3,5]"), in the order given.
std::string format_hostlist(const std::vector<std::string>& names);

}  // namespace zs
