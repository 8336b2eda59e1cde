// Handlers of the FullDatos API paths. Each one locks the store itself when
// it reads or changes state, and returns the complete response.
#pragma once

#include "api_types.h"

namespace fdsim {

struct Simulator;

#define FDSIM_HANDLER(name) ApiResponse name(Simulator& simulator, const ApiRequest& request, const PathParams& params)

FDSIM_HANDLER(listUsers);
FDSIM_HANDLER(getUser);
FDSIM_HANDLER(updateUser);
FDSIM_HANDLER(deleteUser);

FDSIM_HANDLER(createOrder);
FDSIM_HANDLER(listOrders);
FDSIM_HANDLER(getOrder);

FDSIM_HANDLER(listEsims);
FDSIM_HANDLER(getEsim);
FDSIM_HANDLER(listBundles);
FDSIM_HANDLER(getBundle);

FDSIM_HANDLER(createRefund);

FDSIM_HANDLER(getBalance);
FDSIM_HANDLER(listTransactions);

FDSIM_HANDLER(listStatus);
FDSIM_HANDLER(runStatusCheck);

FDSIM_HANDLER(createTicket);
FDSIM_HANDLER(listTickets);
FDSIM_HANDLER(getTicket);
FDSIM_HANDLER(listTicketCategories);

FDSIM_HANDLER(listDestinations);
FDSIM_HANDLER(listBundleOffers);
FDSIM_HANDLER(getBundleOffer);
FDSIM_HANDLER(listCompatibility);

FDSIM_HANDLER(getSalesAnalytics);
FDSIM_HANDLER(getTopSalesAnalytics);
FDSIM_HANDLER(getUsageAnalytics);
FDSIM_HANDLER(getChannelAnalytics);
FDSIM_HANDLER(exportAnalytics);

#undef FDSIM_HANDLER

}  // namespace fdsim
