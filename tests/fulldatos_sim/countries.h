// Built-in table of countries (ISO 3166-1 alpha-2) used by the generated
// catalog and by destination names.
#pragma once

#include <span>
#include <string_view>

namespace fdsim {

struct Country {
  std::string_view code;     // ISO 3166-1 alpha-2
  std::string_view name;     // English
  std::string_view name_es;  // Spanish
  std::string_view region;   // "Europe", "Latin America", "North America", "Asia",
                             // "Middle East", "Africa" or "Oceania"
};

std::span<const Country> allCountries();

// Returns nullptr for a code that is not in the table.
const Country* findCountry(std::string_view code);

}  // namespace fdsim
