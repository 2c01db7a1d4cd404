#include "cli/suggest.h"

#include <doctest/doctest.h>

using streamctl::cli::closest;
using streamctl::cli::typo_distance;

TEST_CASE("TypoDistanceCountsEachEditAndAdjacentSwapOnce") {
  CHECK(typo_distance("list", "list") == 0);
  CHECK(typo_distance("lst", "list") == 1);      // deletion
  CHECK(typo_distance("lisst", "list") == 1);    // insertion
  CHECK(typo_distance("lidt", "list") == 1);     // substitution
  CHECK(typo_distance("lsit", "list") == 1);     // transposition
  CHECK(typo_distance("", "abc") == 3);
  CHECK(typo_distance("kitten", "sitting") == 3);
}

TEST_CASE("ClosestSuggestsOnlyPlausibleTypos") {
  const std::vector<std::string> commands = {"topic", "produce", "consume", "group", "log", "serve", "cluster"};
  CHECK(closest("consme", commands) == std::optional<std::string>("consume"));
  CHECK(closest("prodcue", commands) == std::optional<std::string>("produce"));
  CHECK(closest("grup", commands) == std::optional<std::string>("group"));
  CHECK(closest("kubernetes", commands) == std::nullopt);
  CHECK(closest("", commands) == std::nullopt);
  // A prefix of exactly one candidate counts even when it is many edits away.
  CHECK(closest("--form", {"--format", "--follow"}) == std::optional<std::string>("--format"));
  CHECK(closest("--f", {"--format", "--follow"}) == std::nullopt);
}
