// File: node/glob.h
//
// Redis-style glob matching (KEYS, SCAN MATCH, CONFIG GET): `*`, `?`,
// `[abc]`, `[^a-z]`, and `\` escapes, optionally case-insensitive.
// Thread-safety: pure function.
#ifndef LATTICE_NODE_GLOB_H_
#define LATTICE_NODE_GLOB_H_

#include <string_view>

namespace lattice::node {

bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase = false);

}  // namespace lattice::node

#endif  // LATTICE_NODE_GLOB_H_
