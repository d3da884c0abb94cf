#pragma once
#include <stdexcept>
#include <vector>

template <typename T>
class Stack {
 public:
  void push(T v) { items_.push_back(std::move(v)); }
  T pop() {
    if (items_.empty()) throw std::out_of_range("pop from an empty stack");
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }
  size_t size() const { return items_.size(); }

 private:
  std::vector<T> items_;
};
