// IndexList: indices into Snapshot::pending in the order a pass offers them - either an explicit
// list or simply 0, 1, ..., n-1. A queue that is already in the wanted order (the common case:
// every waiting job has the same priority) then costs nothing to "sort" on each pass.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace zs {

class IndexList {
 public:
  IndexList() = default;
  explicit IndexList(std::vector<std::uint32_t> list) : list_(std::move(list)) {}
  // 0, 1, ..., n-1 without storing them.
  static IndexList identity(std::size_t n) {
    IndexList l;
    l.identity_ = n;
    return l;
  }

  std::size_t size() const { return identity_ > 0 ? identity_ : list_.size(); }
  bool empty() const { return size() == 0; }
  std::uint32_t operator[](std::size_t i) const {
    return identity_ > 0 ? static_cast<std::uint32_t>(i) : list_[i];
  }

  class Iterator {
   public:
    Iterator(const IndexList* l, std::size_t i) : l_(l), i_(i) {}
    std::uint32_t operator*() const { return (*l_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const IndexList* l_;
    std::size_t i_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size()}; }

 private:
  std::vector<std::uint32_t> list_;
  std::size_t identity_ = 0;  // > 0: the identity of that size (list_ unused)
};

}  // namespace zs
