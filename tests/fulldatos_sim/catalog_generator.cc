#include "catalog_generator.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>

#include "countries.h"
#include "random.h"

namespace fdsim {

namespace {

constexpr std::array kDataSizesGb = {1, 3, 5, 10, 20};
constexpr std::array kValidityDays = {7, 15, 30};
// Price of the larger sizes relative to 1 GB times the size, in percent.
constexpr std::array kSizeDiscountPercent = {100, 85, 75, 62, 50};
// Surcharge for a longer validity, in percent.
constexpr std::array kValiditySurchargePercent = {100, 110, 120};
// Discount on the daily price of unlimited offers for longer validity.
constexpr std::array kUnlimitedDiscountPercent = {100, 92, 85};

struct UnlimitedProfile {
  const char* profile;
  const char* sku_part;
  const char* name;
  const char* name_es;
  int daily_cents_low;
  int daily_cents_high;
};

constexpr std::array kUnlimitedProfiles = {
    UnlimitedProfile{"unlimited-lite", "LITE", "Unlimited Lite", "Ilimitado Lite", 90, 150},
    UnlimitedProfile{"unlimited-essential", "ESS", "Unlimited Essential", "Ilimitado Esencial", 150, 250},
    UnlimitedProfile{"unlimited-plus", "PLUS", "Unlimited Plus", "Ilimitado Plus", 250, 400},
};

struct Region {
  const char* code;  // SKU part; never an ISO country code
  const char* name;
  const char* name_es;
  const char* member_region;  // countries of this table region, or "" for special lists
};

constexpr std::array kRegions = {
    Region{"EU", "Europe", "Europa", "Europe"},
    Region{"LATAM", "Latin America", "Latinoamérica", "Latin America"},
    Region{"NORAM", "North America", "Norteamérica", "North America"},
    Region{"ASIA", "Asia", "Asia", "Asia"},
    Region{"MIDEAST", "Middle East", "Medio Oriente", "Middle East"},
    Region{"AFRICA", "Africa", "África", "Africa"},
    Region{"OCEANIA", "Oceania", "Oceanía", "Oceania"},
    Region{"GLOBAL", "Global", "Global", ""},
};

// Countries whose complete offer set is always generated, so that tests and
// demos can rely on SKUs such as FD-MX-5GB-30D and FD-US-UL-ESS-7D.
constexpr std::array<std::string_view, 3> kFeaturedCountries = {"MX", "US", "CA"};

constexpr std::array kProviderNames = {"Nimbus Mobile", "Orbital Connect", "Vertice Telecom"};

// Operators that a test may look for by name; other countries get generic ones.
const std::map<std::string, std::vector<std::string>>& knownOperators() {
  static const std::map<std::string, std::vector<std::string>> operators = {
      {"MX", {"Telcel", "AT&T Mexico", "Movistar"}},
      {"US", {"T-Mobile", "AT&T", "Verizon"}},
      {"CA", {"Rogers", "Bell", "Telus"}},
      {"ES", {"Movistar", "Orange", "Vodafone"}},
      {"GB", {"EE", "Vodafone", "O2"}},
      {"BR", {"Vivo", "Claro", "TIM"}},
  };
  return operators;
}

struct CountryProfile {
  const Country* country;
  int cents_per_gb;  // price of 1 GB for 7 days
  int unlimited_percent;  // scales the daily unlimited price
  std::vector<Network> networks;
};

CountryProfile profileCountry(const Country& country, std::uint64_t seed) {
  SplitMix64 random(seed ^ hashText(std::string(country.code).c_str()));
  CountryProfile profile{&country, static_cast<int>(random.between(120, 450)),
                         static_cast<int>(random.between(80, 140)), {}};

  const bool has_5g = random.between(0, 1) == 1;
  const std::vector<std::string> technologies =
      has_5g ? std::vector<std::string>{"4G", "5G"} : std::vector<std::string>{"3G", "4G"};
  const auto known = knownOperators().find(std::string(country.code));
  if (known != knownOperators().end()) {
    for (const std::string& name : known->second) profile.networks.push_back({std::string(country.code), name, technologies});
    return profile;
  }
  const std::string base(country.name);
  const std::array generic = {base + " Mobile", base + " Telecom", base + " Wireless"};
  const auto operator_count = random.between(1, 3);
  for (int i = 0; i < operator_count; ++i) profile.networks.push_back({std::string(country.code), generic[i], technologies});
  return profile;
}

struct OfferTarget {
  std::string code;  // country or region code for the SKU
  std::string name;
  std::string name_es;
  std::string region;
  std::vector<const CountryProfile*> countries;
  int cents_per_gb;
  int unlimited_percent;
};

std::string dayText(int days, bool spanish) { return std::to_string(days) + (spanish ? " días" : " days"); }

Offer makeStandardOffer(const OfferTarget& target, std::size_t size_index, std::size_t days_index,
                        const ExchangeRate& rate) {
  const int gb = kDataSizesGb[size_index];
  const int days = kValidityDays[days_index];
  Offer offer;
  offer.sku = "FD-" + target.code + "-" + std::to_string(gb) + "GB-" + std::to_string(days) + "D";
  offer.name = target.name + " " + std::to_string(gb) + " GB, " + dayText(days, false);
  offer.name_es = target.name_es + " " + std::to_string(gb) + " GB, " + dayText(days, true);
  offer.data_gb = gb;
  offer.validity_days = days;
  offer.profile = "standard";
  const std::int64_t cents = static_cast<std::int64_t>(target.cents_per_gb) * gb *
                             kSizeDiscountPercent[size_index] * kValiditySurchargePercent[days_index] / 10000;
  offer.price = rate.fromUsd(std::max<std::int64_t>(cents, 99));
  return offer;
}

Offer makeUnlimitedOffer(const OfferTarget& target, const UnlimitedProfile& profile, std::size_t days_index,
                         std::uint64_t seed, const ExchangeRate& rate) {
  const int days = kValidityDays[days_index];
  Offer offer;
  offer.sku = "FD-" + target.code + "-UL-" + profile.sku_part + "-" + std::to_string(days) + "D";
  offer.name = target.name + " " + profile.name + ", " + dayText(days, false);
  offer.name_es = target.name_es + " " + profile.name_es + ", " + dayText(days, true);
  offer.unlimited = true;
  offer.validity_days = days;
  offer.profile = profile.profile;
  SplitMix64 random(seed ^ hashText(offer.sku.c_str()));
  const std::int64_t daily = random.between(profile.daily_cents_low, profile.daily_cents_high) *
                             target.unlimited_percent / 100;
  offer.price = rate.fromUsd(daily * days * kUnlimitedDiscountPercent[days_index] / 100);
  return offer;
}

// All offers for one target, the 5 GB / 30 day offer first.
std::vector<Offer> offersForTarget(const OfferTarget& target, std::uint64_t seed, const ExchangeRate& rate) {
  std::vector<Offer> offers;
  offers.push_back(makeStandardOffer(target, 2, 2, rate));
  for (std::size_t size = 0; size < kDataSizesGb.size(); ++size) {
    for (std::size_t days = 0; days < kValidityDays.size(); ++days) {
      if (size == 2 && days == 2) continue;
      offers.push_back(makeStandardOffer(target, size, days, rate));
    }
  }
  for (const UnlimitedProfile& profile : kUnlimitedProfiles) {
    for (std::size_t days = 0; days < kValidityDays.size(); ++days) {
      offers.push_back(makeUnlimitedOffer(target, profile, days, seed, rate));
    }
  }

  const std::string provider = kProviderNames[hashText(target.code.c_str()) % kProviderNames.size()];
  for (Offer& offer : offers) {
    offer.region = target.region;
    offer.status = "active";
    offer.provider_name = provider;
    for (const CountryProfile* country : target.countries) {
      offer.countries.emplace_back(country->country->code);
      // Regional offers list the first operator of each country only.
      if (target.countries.size() == 1) {
        offer.networks.insert(offer.networks.end(), country->networks.begin(), country->networks.end());
      } else {
        offer.networks.push_back(country->networks.front());
      }
    }
  }
  return offers;
}

std::vector<OfferTarget> regionalTargets(const std::vector<CountryProfile>& profiles) {
  std::vector<OfferTarget> targets;
  for (const Region& region : kRegions) {
    OfferTarget target{region.code, region.name, region.name_es, region.name, {}, 0, 0};
    for (std::size_t i = 0; i < profiles.size(); ++i) {
      const Country& country = *profiles[i].country;
      const bool member = std::string_view(region.member_region).empty()
                              ? i % 2 == 0
                              : country.region == region.member_region ||
                                    (std::string_view(region.code) == "LATAM" && country.code == "MX");
      if (member) target.countries.push_back(&profiles[i]);
    }
    // A regional offer costs about as much as its dearest third of countries.
    std::vector<int> prices;
    for (const CountryProfile* country : target.countries) prices.push_back(country->cents_per_gb);
    std::sort(prices.begin(), prices.end());
    target.cents_per_gb = prices[prices.size() * 2 / 3];
    target.unlimited_percent = 130;
    targets.push_back(std::move(target));
  }
  return targets;
}

}  // namespace

std::vector<Offer> generateCatalog(std::uint64_t seed, std::size_t target_count, const ExchangeRate& rate) {
  std::vector<CountryProfile> profiles;
  for (const Country& country : allCountries()) profiles.push_back(profileCountry(country, seed));

  // First tier: the 5 GB / 30 day offer of every country and region, so that
  // every destination exists, and every offer of the featured countries.
  // Second tier: all regional offers. The rest are shuffled with the seed and
  // taken until the target count. First-tier offers are always active.
  std::vector<Offer> first_tier;
  std::vector<Offer> second_tier;
  std::vector<Offer> rest;
  for (const CountryProfile& profile : profiles) {
    const Country& country = *profile.country;
    OfferTarget target{std::string(country.code), std::string(country.name), std::string(country.name_es),
                       std::string(country.region), {&profile}, profile.cents_per_gb, profile.unlimited_percent};
    std::vector<Offer> offers = offersForTarget(target, seed, rate);
    const bool featured =
        std::find(kFeaturedCountries.begin(), kFeaturedCountries.end(), country.code) != kFeaturedCountries.end();
    std::vector<Offer>& others = featured ? first_tier : rest;
    first_tier.push_back(std::move(offers.front()));
    others.insert(others.end(), std::make_move_iterator(offers.begin() + 1), std::make_move_iterator(offers.end()));
  }
  for (const OfferTarget& target : regionalTargets(profiles)) {
    std::vector<Offer> offers = offersForTarget(target, seed, rate);
    first_tier.push_back(std::move(offers.front()));
    second_tier.insert(second_tier.end(), std::make_move_iterator(offers.begin() + 1),
                       std::make_move_iterator(offers.end()));
  }

  SplitMix64 random(seed);
  for (std::size_t i = rest.size(); i > 1; --i) {
    std::swap(rest[i - 1], rest[static_cast<std::size_t>(random.next() % i)]);
  }

  std::vector<Offer> selected;
  for (auto* tier : {&first_tier, &second_tier, &rest}) {
    for (Offer& offer : *tier) {
      if (selected.size() >= target_count) break;
      selected.push_back(std::move(offer));
    }
  }

  // About one offer in fifty outside the first tier is inactive.
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (i >= first_tier.size() && random.between(0, 49) == 0) selected[i].status = "inactive";
  }

  std::sort(selected.begin(), selected.end(), [](const Offer& a, const Offer& b) { return a.sku < b.sku; });
  return selected;
}

}  // namespace fdsim
