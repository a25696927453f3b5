// Private: a tiny little-endian byte writer/reader for the models' own serialization
// formats (electrode embeddings, MLP ensembles). Floats are stored bit for bit, so a
// round trip reproduces every value exactly. Readers never trust lengths: every read is
// bounds-checked and a short or corrupt buffer yields INVALID_ARGUMENT.
#ifndef IONLOOP_MODELS_EMBEDDING_BYTES_INTERNAL_H_
#define IONLOOP_MODELS_EMBEDDING_BYTES_INTERNAL_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ionloop::models::internal {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE-754 floats expected");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the models' byte formats are little-endian; add byte swapping for this host"
#endif

class ByteWriter {
 public:
  void Raw(const void* data, size_t n) { out_.append(static_cast<const char*>(data), n); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void I32(int32_t v) { Raw(&v, sizeof v); }
  void F32(float v) { Raw(&v, sizeof v); }
  void F64(double v) { Raw(&v, sizeof v); }
  void Str(absl::string_view s) {
    U64(s.size());
    Raw(s.data(), s.size());
  }
  void F32s(const std::vector<float>& v) {
    U64(v.size());
    Raw(v.data(), v.size() * sizeof(float));
  }
  void F64s(const std::vector<double>& v) {
    U64(v.size());
    Raw(v.data(), v.size() * sizeof(double));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  // `what` names the format in error messages ("MlpEnsemble", "PcaEmbedding", ...).
  ByteReader(absl::string_view in, absl::string_view what) : in_(in), what_(what) {}

  absl::Status Raw(void* out, size_t n) {
    if (in_.size() - pos_ < n) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": truncated data: need ", n,
                                                     " bytes at offset ", pos_, ", have ",
                                                     in_.size() - pos_));
    }
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status U32(uint32_t* v) { return Raw(v, sizeof *v); }
  absl::Status U64(uint64_t* v) { return Raw(v, sizeof *v); }
  absl::Status I32(int32_t* v) { return Raw(v, sizeof *v); }
  absl::Status F32(float* v) { return Raw(v, sizeof *v); }
  absl::Status F64(double* v) { return Raw(v, sizeof *v); }
  absl::Status Str(std::string* s) {
    uint64_t n = 0;
    if (absl::Status st = Length(&n, 1); !st.ok()) return st;
    s->assign(in_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status F32s(std::vector<float>* v) {
    uint64_t n = 0;
    if (absl::Status st = Length(&n, sizeof(float)); !st.ok()) return st;
    v->resize(n);
    return Raw(v->data(), n * sizeof(float));
  }
  absl::Status F64s(std::vector<double>* v) {
    uint64_t n = 0;
    if (absl::Status st = Length(&n, sizeof(double)); !st.ok()) return st;
    v->resize(n);
    return Raw(v->data(), n * sizeof(double));
  }
  // Checks a fixed magic string and reads the version that follows it.
  absl::Status Header(absl::string_view magic, uint32_t max_version, uint32_t* version) {
    if (in_.substr(pos_, magic.size()) != magic) {
      return absl::InvalidArgumentError(
          absl::StrCat(what_, ": not a serialized ", what_, " (magic '", magic, "' missing)"));
    }
    pos_ += magic.size();
    if (absl::Status st = U32(version); !st.ok()) return st;
    if (*version == 0 || *version > max_version) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": unsupported format version ",
                                                     *version, " (this build reads 1..",
                                                     max_version, ")"));
    }
    return absl::OkStatus();
  }
  absl::Status ExpectEnd() const {
    if (pos_ != in_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what_, ": ", in_.size() - pos_, " trailing bytes after the data"));
    }
    return absl::OkStatus();
  }
  absl::Status Corrupt(absl::string_view detail) const {
    return absl::InvalidArgumentError(absl::StrCat(what_, ": corrupt data: ", detail));
  }

 private:
  absl::Status Length(uint64_t* n, size_t element_size) {
    if (absl::Status st = U64(n); !st.ok()) return st;
    if (*n > (in_.size() - pos_) / element_size) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": length ", *n, " at offset ",
                                                     pos_, " exceeds the remaining data"));
    }
    return absl::OkStatus();
  }

  absl::string_view in_;
  absl::string_view what_;
  size_t pos_ = 0;
};

}  // namespace ionloop::models::internal

#endif  // IONLOOP_MODELS_EMBEDDING_BYTES_INTERNAL_H_
