// Numbered schema migrations. A file's `PRAGMA user_version` is the number of the last
// one applied; each applies in its own transaction. Never edit a released migration:
// append a new one.
#ifndef IONLOOP_ORCHESTRATOR_STORE_MIGRATIONS_H_
#define IONLOOP_ORCHESTRATOR_STORE_MIGRATIONS_H_

#include <vector>

namespace ionloop::orchestrator {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// In version order, starting at 1.
const std::vector<Migration>& SchemaMigrations();

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_STORE_MIGRATIONS_H_
