// A scratch directory for a test, removed with its contents afterwards.
#ifndef IONLOOP_TESTS_TESTING_TEMP_DIR_H_
#define IONLOOP_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace ionloop::testing {

class TempDir {
 public:
  TempDir();  // under $TMPDIR (default /tmp)
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ionloop::testing

#endif  // IONLOOP_TESTS_TESTING_TEMP_DIR_H_
