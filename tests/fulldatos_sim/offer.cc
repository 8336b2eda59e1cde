#include "offer.h"

#include <algorithm>

#include "countries.h"

namespace fdsim {

namespace {

// Prints whole numbers such as 5.0 as 5 and keeps fractions such as 0.5.
Json numberToJson(double value) {
  const auto whole = static_cast<long long>(value);
  if (static_cast<double>(whole) == value) return Json(whole);
  return Json(value);
}

}  // namespace

Json offerToJson(const Offer& offer) {
  Json result = Json::object();
  result["sku"] = offer.sku;
  result["name"] = offer.name;
  result["name_es"] = offer.name_es;
  result["countries"] = offer.countries;
  result["region"] = offer.region;
  result["data_gb"] = offer.data_gb ? numberToJson(*offer.data_gb) : Json(nullptr);
  result["unlimited"] = offer.unlimited;
  result["validity_days"] = offer.validity_days;
  result["profile"] = offer.profile;
  result["status"] = offer.status;
  result["price"] = moneyToJson(offer.price);
  result["provider"] = Json{{"name", offer.provider_name}};

  Json networks = Json::array();
  for (const Network& network : offer.networks) {
    networks.push_back(Json{{"country", network.country},
                            {"operator", network.operator_name},
                            {"technologies", network.technologies}});
  }
  result["networks"] = std::move(networks);
  return result;
}

namespace {

bool isCountryCode(const std::string& code) {
  return code.size() == 2 && std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Reads an optional string member, failing when it has another type.
bool readOptionalString(const Json& entry, const char* key, std::string& out, std::string& error_field,
                        std::string& error_message) {
  if (!entry.contains(key) || entry[key].is_null()) return true;
  if (!entry[key].is_string()) {
    error_field = key;
    error_message = "must be a string";
    return false;
  }
  out = entry[key].get<std::string>();
  return true;
}

bool readNetworks(const Json& entry, Offer& offer, std::string& error_field, std::string& error_message) {
  if (!entry.contains("networks") || entry["networks"].is_null()) return true;
  const Json& networks = entry["networks"];
  if (!networks.is_array()) {
    error_field = "networks";
    error_message = "must be an array";
    return false;
  }
  for (std::size_t i = 0; i < networks.size(); ++i) {
    const Json& item = networks[i];
    error_field = "networks[" + std::to_string(i) + "]";
    if (!item.is_object() || !item.contains("country") || !item["country"].is_string()) {
      error_message = "must be an object with a string \"country\"";
      return false;
    }
    Network network;
    network.country = item["country"].get<std::string>();
    if (item.contains("operator") && item["operator"].is_string()) {
      network.operator_name = item["operator"].get<std::string>();
    }
    if (item.contains("technologies") && item["technologies"].is_array()) {
      for (const Json& technology : item["technologies"]) {
        if (technology.is_string()) network.technologies.push_back(technology.get<std::string>());
      }
    }
    offer.networks.push_back(std::move(network));
  }
  error_field.clear();
  return true;
}

bool readPrice(const Json& entry, const ExchangeRate& rate, Offer& offer, std::string& error_field,
               std::string& error_message) {
  error_field = "price.usd";
  if (!entry.contains("price") || !entry["price"].is_object() || !entry["price"].contains("usd")) {
    error_message = "is missing";
    return false;
  }
  const Json& price = entry["price"];
  const auto usd = price["usd"].is_number() ? centsFromJsonNumber(price["usd"].get<double>()) : std::nullopt;
  if (!usd || *usd < 0) {
    error_message = "must be a non-negative number with at most two decimals";
    return false;
  }
  offer.price = rate.fromUsd(*usd);

  if (price.contains("mxn") && !price["mxn"].is_null()) {
    error_field = "price.mxn";
    const auto mxn = price["mxn"].is_number() ? centsFromJsonNumber(price["mxn"].get<double>()) : std::nullopt;
    if (!mxn || *mxn < 0) {
      error_message = "must be a non-negative number with at most two decimals";
      return false;
    }
    offer.price.mxn_cents = *mxn;
  }
  error_field.clear();
  return true;
}

}  // namespace

std::optional<Offer> offerFromJson(const Json& entry, const ExchangeRate& rate, std::string& error_field,
                                   std::string& error_message) {
  if (!entry.is_object()) {
    error_field = "(offer)";
    error_message = "must be a JSON object";
    return std::nullopt;
  }
  Offer offer;

  error_field = "sku";
  if (!entry.contains("sku") || !entry["sku"].is_string() || entry["sku"].get<std::string>().empty()) {
    error_message = "is missing or not a non-empty string";
    return std::nullopt;
  }
  offer.sku = entry["sku"].get<std::string>();

  error_field = "countries";
  if (!entry.contains("countries") || !entry["countries"].is_array() || entry["countries"].empty()) {
    error_message = "is missing or not a non-empty array";
    return std::nullopt;
  }
  for (const Json& code : entry["countries"]) {
    if (!code.is_string() || !isCountryCode(code.get<std::string>())) {
      error_message = "must contain only upper-case ISO alpha-2 codes such as \"MX\"";
      return std::nullopt;
    }
    offer.countries.push_back(code.get<std::string>());
  }

  if (!readPrice(entry, rate, offer, error_field, error_message)) return std::nullopt;

  offer.name = offer.sku;
  if (!readOptionalString(entry, "name", offer.name, error_field, error_message)) return std::nullopt;
  offer.name_es = offer.name;
  if (!readOptionalString(entry, "name_es", offer.name_es, error_field, error_message)) return std::nullopt;
  const Country* first_country = findCountry(offer.countries.front());
  offer.region = first_country != nullptr ? std::string(first_country->region) : "";
  if (!readOptionalString(entry, "region", offer.region, error_field, error_message)) return std::nullopt;

  if (entry.contains("unlimited") && !entry["unlimited"].is_null()) {
    if (!entry["unlimited"].is_boolean()) {
      error_field = "unlimited";
      error_message = "must be a boolean";
      return std::nullopt;
    }
    offer.unlimited = entry["unlimited"].get<bool>();
  }
  if (entry.contains("data_gb") && !entry["data_gb"].is_null()) {
    if (!entry["data_gb"].is_number() || entry["data_gb"].get<double>() <= 0) {
      error_field = "data_gb";
      error_message = "must be a positive number or null";
      return std::nullopt;
    }
    offer.data_gb = entry["data_gb"].get<double>();
  }
  if (!offer.data_gb && !offer.unlimited) {
    error_field = "data_gb";
    error_message = "is required unless \"unlimited\" is true";
    return std::nullopt;
  }
  if (offer.unlimited) offer.data_gb.reset();

  offer.validity_days = 30;
  if (entry.contains("validity_days") && !entry["validity_days"].is_null()) {
    if (!entry["validity_days"].is_number_integer() || entry["validity_days"].get<int>() <= 0) {
      error_field = "validity_days";
      error_message = "must be a positive integer";
      return std::nullopt;
    }
    offer.validity_days = entry["validity_days"].get<int>();
  }

  offer.profile = offer.unlimited ? "unlimited-essential" : "standard";
  if (!readOptionalString(entry, "profile", offer.profile, error_field, error_message)) return std::nullopt;
  if (std::find(std::begin(kProfiles), std::end(kProfiles), offer.profile) == std::end(kProfiles)) {
    error_field = "profile";
    error_message = "must be standard, unlimited-lite, unlimited-essential or unlimited-plus";
    return std::nullopt;
  }

  offer.status = "active";
  if (!readOptionalString(entry, "status", offer.status, error_field, error_message)) return std::nullopt;
  if (offer.status != "active" && offer.status != "inactive") {
    error_field = "status";
    error_message = "must be active or inactive";
    return std::nullopt;
  }

  offer.provider_name = "FullDatos Sim Provider";
  if (entry.contains("provider") && entry["provider"].is_object()) {
    if (!readOptionalString(entry["provider"], "name", offer.provider_name, error_field, error_message)) {
      error_field = "provider.name";
      return std::nullopt;
    }
  }

  if (!readNetworks(entry, offer, error_field, error_message)) return std::nullopt;
  error_field.clear();
  return offer;
}

}  // namespace fdsim
