// A bundle offer of the catalog and its JSON form.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "money.h"

namespace fdsim {

struct Network {
  std::string country;  // ISO alpha-2
  std::string operator_name;
  std::vector<std::string> technologies;  // such as "4G", "5G"
};

struct Offer {
  std::string sku;
  std::string name;
  std::string name_es;
  std::vector<std::string> countries;  // ISO alpha-2, several for regional offers
  std::string region;
  std::optional<double> data_gb;  // empty when unlimited
  bool unlimited = false;
  int validity_days = 0;
  std::string profile;  // standard, unlimited-lite, unlimited-essential, unlimited-plus
  std::string status;   // active, inactive
  Money price;
  std::string provider_name;
  std::vector<Network> networks;

  bool isActive() const { return status == "active"; }
};

inline constexpr const char* kProfiles[] = {"standard", "unlimited-lite", "unlimited-essential",
                                            "unlimited-plus"};

Json offerToJson(const Offer& offer);

// Reads an offer from a --catalog file entry. Required: "sku", "countries"
// and "price.usd". Missing "price.mxn" is derived with `rate`. On failure,
// returns nothing and sets `error_field` and `error_message`.
std::optional<Offer> offerFromJson(const Json& entry, const ExchangeRate& rate,
                                   std::string& error_field, std::string& error_message);

}  // namespace fdsim
