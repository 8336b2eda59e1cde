#pragma once

namespace fdgw::app {

// Runs `fulldatos-gateway wallet COMMAND ...`, where argv[0] is "wallet":
// shows, tops up or adjusts a tenant's wallet, or prints its ledger, in the
// Redis server of the gateway config. Returns the process exit code: 0 on
// success, 1 when Redis fails or rejects the change, 2 for invalid
// arguments or config.
int runWalletCommand(int argc, char** argv);

}  // namespace fdgw::app
