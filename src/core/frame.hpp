// The byte format that crosses the JS/Wasm boundary. Length-prefixed little-endian fields instead
// of JSON: the shim writes strings straight into linear memory with TextEncoder.encodeInto and the
// core reads them without a parse, so a request costs one copy each way (DESIGN.md §2: the
// crossing is the tax to cut). js-shim/frame.js is the other half; keep them in step.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace ec {

class FrameWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { raw(&v, 2); }
  void u32(uint32_t v) { raw(&v, 4); }
  void f64(double v) { raw(&v, 8); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  std::string& buffer() { return out_; }
  std::string take() { return std::move(out_); }

 private:
  // wasm32 and x86-64 are both little-endian, which is what the JS side's DataView assumes.
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

// Every read is bounds-checked; a short or corrupt frame yields nullopt, never a wild read.
class FrameReader {
 public:
  explicit FrameReader(std::string_view in) : in_(in) {}
  std::optional<uint8_t> u8() {
    if (pos_ + 1 > in_.size()) return std::nullopt;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  std::optional<uint32_t> u32() { return raw<uint32_t>(); }
  std::optional<double> f64() { return raw<double>(); }
  std::optional<std::string_view> str() {
    auto n = u32();
    if (!n || *n > in_.size() - pos_) return std::nullopt;
    std::string_view s = in_.substr(pos_, *n);
    pos_ += *n;
    return s;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  template <typename T>
  std::optional<T> raw() {
    if (pos_ + sizeof(T) > in_.size()) return std::nullopt;
    T v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace ec
