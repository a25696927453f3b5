#include "models/dataset_loader.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "models/corpus/virtual_corpus.h"
#include "models/data/dataset_readers.h"

namespace ionloop::models {

absl::StatusOr<std::vector<CellSeries>> LoadDataset(absl::string_view spec,
                                                    const instruments::ElectrodeTable& table,
                                                    int threads) {
  if (absl::StartsWith(spec, "virtual:")) {
    const std::vector<absl::string_view> parts = absl::StrSplit(spec, ':');
    CorpusDesign design;
    const auto bad = [&] {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", spec, "': expected virtual:N[:SEED[:IONS[:POSITIVE/NEGATIVE]]] with N in "
                     "1..100000, SEED an integer, IONS like li or li+na, and electrode names"));
    };
    if (parts.size() > 5 || !absl::SimpleAtoi(parts[1], &design.cells) || design.cells < 1 ||
        design.cells > 100'000 ||
        (parts.size() >= 3 && !absl::SimpleAtoi(parts[2], &design.seed))) {
      return bad();
    }
    if (parts.size() == 4) {
      design.ions.clear();
      for (absl::string_view name : absl::StrSplit(parts[3], '+')) {
        if (name == "li") design.ions.push_back(instruments::Ion::kLi);
        else if (name == "na") design.ions.push_back(instruments::Ion::kNa);
        else if (name == "k") design.ions.push_back(instruments::Ion::kK);
        else if (name == "mg") design.ions.push_back(instruments::Ion::kMg);
        else return bad();
      }
    }
    if (parts.size() == 5) {
      const std::vector<absl::string_view> couple = absl::StrSplit(parts[4], '/');
      if (couple.size() != 2 || couple[0].empty() || couple[1].empty()) return bad();
      design.positive_electrodes = {std::string(couple[0])};
      design.negative_electrodes = {std::string(couple[1])};
    }
    return GenerateVirtualCorpus(table, design, threads);
  }
  ASSIGN_OR_RETURN(DatasetSpec parsed, ParseDatasetSpec(spec));
  return ReadDataset(parsed);
}

}  // namespace ionloop::models
