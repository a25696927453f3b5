// A dense row-major float matrix: the currency between featurizers and the network
// library (models/nn), so that neither side's headers leak into the other.
#ifndef IONLOOP_MODELS_DATA_MATRIX_H_
#define IONLOOP_MODELS_DATA_MATRIX_H_

#include <cstddef>
#include <vector>

namespace ionloop::models {

struct Matrix {
  Matrix() = default;
  Matrix(size_t rows, size_t cols) : rows(rows), cols(cols), values(rows * cols, 0.0f) {}

  float& at(size_t r, size_t c) { return values[r * cols + c]; }
  float at(size_t r, size_t c) const { return values[r * cols + c]; }
  const float* row(size_t r) const { return values.data() + r * cols; }
  float* row(size_t r) { return values.data() + r * cols; }

  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> values;  // rows * cols
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATA_MATRIX_H_
