// Small deterministic pseudo-random helpers. The standard distributions are
// implementation-defined, so the simulator uses its own to keep the generated
// catalog and ids identical across standard libraries for a given seed.
#pragma once

#include <cstdint>

namespace fdsim {

// SplitMix64 finalizer: a bijection on 64-bit values with good mixing.
constexpr std::uint64_t mix64(std::uint64_t value) {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    const std::uint64_t result = mix64(state_);
    state_ += 0x9E3779B97F4A7C15ULL;
    return result;
  }

  // Uniform integer in [low, high]; the modulo bias is negligible for the
  // small ranges used here.
  std::int64_t between(std::int64_t low, std::int64_t high) {
    const auto span = static_cast<std::uint64_t>(high - low + 1);
    return low + static_cast<std::int64_t>(next() % span);
  }

  // Uniform double in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

// FNV-1a hash of a string, for deriving stable per-name seeds.
constexpr std::uint64_t hashText(const char* text, std::uint64_t hash = 0xCBF29CE484222325ULL) {
  for (; *text != '\0'; ++text) {
    hash ^= static_cast<unsigned char>(*text);
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

}  // namespace fdsim
