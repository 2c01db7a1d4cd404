// Suggestions for mistyped words on the command line: `streamctl consme` -> "did you mean 'consume'?".
//
// typo_distance is the optimal-string-alignment distance (insertions, deletions, substitutions and
// transpositions of two adjacent characters each cost 1), so "lsit" is one edit from "list". closest()
// picks the candidate with the smallest distance when it is close enough to be a plausible typo: at most
// max(2, word.size() / 3) edits, or the word is a prefix of exactly one candidate. Thread-safe (pure).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamctl::cli {

size_t typo_distance(std::string_view a, std::string_view b);

// The candidate `word` was most likely meant to be, or nullopt when none is close. Ties go to the first.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace streamctl::cli
