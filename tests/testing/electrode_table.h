// The default electrode table (instruments/data/electrodes.csv), read once per test
// binary; a test that uses it fails with the reason when it cannot be read.
#ifndef IONLOOP_TESTS_TESTING_ELECTRODE_TABLE_H_
#define IONLOOP_TESTS_TESTING_ELECTRODE_TABLE_H_

#include <gtest/gtest.h>

#include "instruments/electrode_table.h"

namespace ionloop::testing {

inline const instruments::ElectrodeTable& DefaultElectrodeTable() {
  static const instruments::ElectrodeTable* table = [] {
    absl::StatusOr<instruments::ElectrodeTable> t = instruments::LoadDefaultElectrodeTable();
    EXPECT_TRUE(t.ok()) << t.status();
    return new instruments::ElectrodeTable(t.ok() ? *std::move(t) : instruments::ElectrodeTable());
  }();
  return *table;
}

}  // namespace ionloop::testing

#endif  // IONLOOP_TESTS_TESTING_ELECTRODE_TABLE_H_
