// GET /catalog/destinations, /catalog/bundle-offers,
// /catalog/bundle-offers/{sku} and /catalog/compatibility. The catalog is
// immutable, so these handlers take no lock and return the same bytes for
// the same query.

#include <algorithm>
#include <array>
#include <cctype>

#include "handlers.h"
#include "simulator.h"

namespace fdsim {

namespace {

std::optional<OfferFilter> parseOfferFilter(const ApiRequest& request, ApiResponse& error) {
  OfferFilter filter;
  if (auto country = queryValue(request, "country")) {
    std::transform(country->begin(), country->end(), country->begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (country->size() != 2 || !std::isalpha(static_cast<unsigned char>((*country)[0])) ||
        !std::isalpha(static_cast<unsigned char>((*country)[1]))) {
      error = errorResponse(400, "Invalid country \"" + *country + "\": expected an ISO alpha-2 code such as MX");
      return std::nullopt;
    }
    filter.country = *country;
  }

  for (const auto& [name, target] : {std::pair{"min_gb", &filter.min_gb}, std::pair{"max_gb", &filter.max_gb}}) {
    const auto text = queryValue(request, name);
    if (!text) continue;
    *target = parseNumber(*text);
    if (!*target) {
      error = errorResponse(400, std::string("Invalid ") + name + " \"" + *text + "\": expected a non-negative number");
      return std::nullopt;
    }
  }
  for (const auto& [name, target] :
       {std::pair{"min_days", &filter.min_days}, std::pair{"max_days", &filter.max_days}}) {
    const auto text = queryValue(request, name);
    if (!text) continue;
    const auto value = parseInteger(*text);
    if (!value || *value > 100000) {
      error = errorResponse(400, std::string("Invalid ") + name + " \"" + *text + "\": expected a whole number of days");
      return std::nullopt;
    }
    *target = static_cast<int>(*value);
  }

  filter.sku = queryValue(request, "sku");
  filter.profile = queryValue(request, "profile");
  if (filter.profile &&
      std::find(std::begin(kProfiles), std::end(kProfiles), *filter.profile) == std::end(kProfiles)) {
    error = errorResponse(400, "Invalid profile \"" + *filter.profile +
                                   "\": expected standard, unlimited-lite, unlimited-essential or unlimited-plus");
    return std::nullopt;
  }
  filter.status = queryValue(request, "status");
  if (filter.status && *filter.status != "active" && *filter.status != "inactive") {
    error = errorResponse(400, "Invalid status \"" + *filter.status + "\": expected active or inactive");
    return std::nullopt;
  }
  return filter;
}

struct Device {
  const char* brand;
  const char* model;
  const char* name_en;
  const char* name_es;
};

constexpr std::array kDevices = {
    Device{"Apple", "iPhone XS", "iPhone XS and XS Max", "iPhone XS y XS Max"},
    Device{"Apple", "iPhone XR", "iPhone XR", "iPhone XR"},
    Device{"Apple", "iPhone 11", "iPhone 11, 11 Pro and 11 Pro Max", "iPhone 11, 11 Pro y 11 Pro Max"},
    Device{"Apple", "iPhone SE (2020)", "iPhone SE (2nd generation)", "iPhone SE (2.ª generación)"},
    Device{"Apple", "iPhone 12", "iPhone 12 (all models)", "iPhone 12 (todos los modelos)"},
    Device{"Apple", "iPhone 13", "iPhone 13 (all models)", "iPhone 13 (todos los modelos)"},
    Device{"Apple", "iPhone 14", "iPhone 14 (all models)", "iPhone 14 (todos los modelos)"},
    Device{"Apple", "iPhone 15", "iPhone 15 (all models)", "iPhone 15 (todos los modelos)"},
    Device{"Apple", "iPad Pro (2018)", "iPad Pro 11-inch, cellular models", "iPad Pro de 11 pulgadas, modelos celulares"},
    Device{"Samsung", "Galaxy S20", "Galaxy S20, S20+ and S20 Ultra", "Galaxy S20, S20+ y S20 Ultra"},
    Device{"Samsung", "Galaxy S21", "Galaxy S21 (all models)", "Galaxy S21 (todos los modelos)"},
    Device{"Samsung", "Galaxy S22", "Galaxy S22 (all models)", "Galaxy S22 (todos los modelos)"},
    Device{"Samsung", "Galaxy S23", "Galaxy S23 (all models)", "Galaxy S23 (todos los modelos)"},
    Device{"Samsung", "Galaxy Z Flip", "Galaxy Z Flip (all generations)", "Galaxy Z Flip (todas las generaciones)"},
    Device{"Samsung", "Galaxy Z Fold", "Galaxy Z Fold (from the second generation)",
           "Galaxy Z Fold (desde la segunda generación)"},
    Device{"Google", "Pixel 4", "Pixel 4 and 4 XL", "Pixel 4 y 4 XL"},
    Device{"Google", "Pixel 6", "Pixel 6 and 6 Pro", "Pixel 6 y 6 Pro"},
    Device{"Google", "Pixel 7", "Pixel 7 and 7 Pro", "Pixel 7 y 7 Pro"},
    Device{"Google", "Pixel 8", "Pixel 8 and 8 Pro", "Pixel 8 y 8 Pro"},
    Device{"Motorola", "Razr 2019", "Razr (2019)", "Razr (2019)"},
    Device{"Motorola", "Edge 40", "Edge 40", "Edge 40"},
    Device{"Xiaomi", "13T Pro", "Xiaomi 13T Pro", "Xiaomi 13T Pro"},
    Device{"Huawei", "P40", "P40 and P40 Pro (not P40 Lite)", "P40 y P40 Pro (no P40 Lite)"},
};

}  // namespace

ApiResponse listDestinations(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;
  return pageResponse(simulator.catalog.destinations(), *page);
}

ApiResponse listBundleOffers(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;
  const auto filter = parseOfferFilter(request, error);
  if (!filter) return error;
  return pageResponse(simulator.catalog.filter(*filter), *page);
}

ApiResponse getBundleOffer(Simulator& simulator, const ApiRequest&, const PathParams& params) {
  const std::string& sku = params.at("sku");
  if (simulator.catalog.find(sku) == nullptr) return errorResponse(404, "Bundle offer " + sku + " not found");
  return successResponse(simulator.catalog.offerJson(sku));
}

// Lists eSIM-capable devices grouped by brand, in table order.
ApiResponse listCompatibility(Simulator&, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;

  std::vector<Json> brands;
  for (const Device& device : kDevices) {
    if (brands.empty() || brands.back()["brand"] != device.brand) {
      brands.push_back(Json{{"brand", device.brand}, {"devices", Json::array()}});
    }
    brands.back()["devices"].push_back(
        Json{{"model", device.model}, {"name_en", device.name_en}, {"name_es", device.name_es}});
  }
  return pageResponse(brands, *page);
}

}  // namespace fdsim
