#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "gateway/common/clock.h"
#include "gateway/config/gateway_config.h"
#include "gateway/log/logger.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/proxy/policy_store.h"

namespace fdgw::app {

// Resolves each configured upstream's credentials from the environment.
// Throws config::ConfigErrors naming every missing variable.
std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>> resolveUpstreams(
    const config::GatewayConfig& config);

// Loads policies and builds a snapshot ready for requests. Throws
// config::ConfigErrors when the policies are invalid.
std::shared_ptr<const proxy::PolicySnapshot> buildSnapshot(
    const config::GatewayConfig& config,
    const std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>>& upstreams,
    metrics::GatewayMetrics& metrics);

// Runs the gateway until SIGINT or SIGTERM, reloading policies on SIGHUP.
// Returns the process exit code.
int runGateway(const config::GatewayConfig& config, log::Logger& logger);

}  // namespace fdgw::app
