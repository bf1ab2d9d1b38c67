# Writes a C++ file holding the given data files as string constants.
file(READ ${CATALOG} catalog)
file(READ ${THROUGHPUTS} throughputs)
file(WRITE ${OUT} "// Generated from data/*.csv by cmake/embed_data.cmake. Do not edit.\n#include <string_view>\nnamespace zs::builtin_data {\n")
file(APPEND ${OUT} "extern const std::string_view kAcceleratorsCsv = R\"ZSDATA(${catalog})ZSDATA\";\n")
file(APPEND ${OUT} "extern const std::string_view kThroughputsCsv = R\"ZSDATA(${throughputs})ZSDATA\";\n")
file(APPEND ${OUT} "}  // namespace zs::builtin_data\n")
