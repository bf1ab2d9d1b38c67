// Slurm hostlists (--nodelist/--exclude): expansion, errors and the folded display form.
#include <gtest/gtest.h>

#include <random>

#include "core/hostlist.h"
#include "core/input_error.h"
#include "test_util.h"

namespace zs {
namespace {

using Names = std::vector<std::string>;
using test::error_of;

TEST(Hostlist, PlainNamesAndRanges) {
  EXPECT_EQ(parse_hostlist("node1", "-w"), (Names{"node1"}));
  EXPECT_EQ(parse_hostlist("node[1-3,5]", "-w"), (Names{"node1", "node2", "node3", "node5"}));
  EXPECT_EQ(parse_hostlist("a,b,c", "-w"), (Names{"a", "b", "c"}));
  EXPECT_EQ(parse_hostlist("gpu[7],cpu[1-2]", "-w"), (Names{"gpu7", "cpu1", "cpu2"}));
  EXPECT_EQ(parse_hostlist("[1-2]x", "-w"), (Names{"1x", "2x"}));
  EXPECT_EQ(parse_hostlist("n-1.rack_a", "-w"), (Names{"n-1.rack_a"}));
}

TEST(Hostlist, LeadingZerosKeepTheirWidth) {
  EXPECT_EQ(parse_hostlist("gpu[08-11]", "-w"), (Names{"gpu08", "gpu09", "gpu10", "gpu11"}));
  EXPECT_EQ(parse_hostlist("n[001-002,010]", "-w"), (Names{"n001", "n002", "n010"}));
  EXPECT_EQ(parse_hostlist("n[0-1]", "-w"), (Names{"n0", "n1"}));
  EXPECT_EQ(parse_hostlist("n[9-10]", "-w"), (Names{"n9", "n10"}));
}

TEST(Hostlist, SeveralGroupsGiveEveryCombination) {
  EXPECT_EQ(parse_hostlist("rack[1-2]-n[1-2]", "-w"),
            (Names{"rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"}));
}

TEST(Hostlist, DuplicatesDroppedInOrder) {
  EXPECT_EQ(parse_hostlist("n[3,1-3],n1", "-w"), (Names{"n3", "n1", "n2"}));
}

TEST(Hostlist, ErrorsNameTheOptionAndTheEntry) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "empty entry"},
      {"a,,b", "empty entry"},
      {"a,", "empty entry"},
      {"n[1-3", "'[' without ']'"},
      {"n1-3]", "']' without '['"},
      {"n[3-1]", "goes down"},
      {"n[a-b]", "expected numbers"},
      {"n[]", "expected numbers"},
      {"n[1,,2]", "expected numbers"},
      {"n[1-2-3]", "expected numbers"},
      {"n[1-1000000000]", "at most 9 digits"},
      {"n[1-100000]", "more than 10000"},
      {"a[1-100]b[1-101]", "more than 10000"},
      {"no de", "not ' '"},
      {"no\x1b[2Jde", "not '\\x1b'"},
      {"-n1", "not a node name"},
      {"/etc/hosts", "not a file"},
  };
  for (const auto& [text, why] : bad) {
    try {
      parse_hostlist(text, "--nodelist");
      ADD_FAILURE() << "accepted " << text;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "--nodelist") << text;
      EXPECT_NE(e.message().find(why), std::string::npos) << text << ": " << e.message();
      EXPECT_EQ(e.message().find('\x1b'), std::string::npos) << text;
    }
  }
  // A name longer than 255 bytes.
  EXPECT_NE(error_of([] { parse_hostlist(std::string(256, 'a'), "-w"); }).find("not a node name"),
            std::string::npos);
}

TEST(Hostlist, ValidNodeNames) {
  EXPECT_TRUE(valid_node_name("node1"));
  EXPECT_TRUE(valid_node_name("9x"));
  EXPECT_FALSE(valid_node_name(""));
  EXPECT_FALSE(valid_node_name(".hidden"));
  EXPECT_FALSE(valid_node_name("a/b"));
  EXPECT_FALSE(valid_node_name("a\nb"));
}

TEST(Hostlist, FormatFoldsRanges) {
  EXPECT_EQ(format_hostlist({"node1", "node2", "node3", "node5"}), "node[1-3,5]");
  EXPECT_EQ(format_hostlist({"gpu08", "gpu09", "gpu10"}), "gpu[08-10]");
  EXPECT_EQ(format_hostlist({"a", "b"}), "a,b");
  EXPECT_EQ(format_hostlist({"n1"}), "n1");
  EXPECT_EQ(format_hostlist({"n9", "n10", "x"}), "n[9-10],x");
  EXPECT_EQ(format_hostlist({"n1", "n01"}), "n1,n01");
  EXPECT_EQ(format_hostlist({}), "");
}

TEST(Hostlist, FormatThenParseGivesTheNamesBack) {
  std::mt19937 rng(7);
  const char* prefixes[] = {"n", "node", "gpu-", "r1-n", ""};
  for (int round = 0; round < 2000; ++round) {
    Names names;
    const int count = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < count; ++i) {
      std::string number = std::to_string(rng() % 30);
      if (rng() % 4 == 0) number.insert(0, 1 + rng() % 2, '0');
      std::string name = prefixes[rng() % 5] + number;
      if (rng() % 8 == 0) name = "host" + std::string(1, static_cast<char>('a' + rng() % 3));
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    const std::string text = format_hostlist(names);
    EXPECT_EQ(parse_hostlist(text, "-w"), names) << text;
  }
}

}  // namespace
}  // namespace zs
