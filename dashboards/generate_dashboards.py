#!/usr/bin/env python3
"""Generate the Grafana dashboards for fulldatos-gateway as JSON files.

The JSON files next to this script are its output and are what Grafana
loads. Edit this script, run it, and commit both: tests/ops/check_rules.sh
fails when the JSON files differ from what the script generates.

    python3 dashboards/generate_dashboards.py [--output-dir DIR]

Every query reads only the metrics that the gateway exports on its admin
listener (prefix fdgw_) and `up`. Panels reference the Prometheus data source
through the DS_PROMETHEUS dashboard variable, whose default is the
provisioned data source with uid "prometheus".
"""

import argparse
import json
import os
import sys

SCHEMA_VERSION = 36
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
RATE = "$__rate_interval"

# Upstream responses that concern the reseller's account or FullDatos itself,
# not the tenant's request: the same codes as the FdgwUpstreamErrorsHigh alert.
UPSTREAM_FAILURE_CODES = '5..|401|402|403|timeout|connect_error|invalid_response'


class Layout:
    """Places panels left to right in a 24-column grid, row by row."""

    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.row_height = 0

    def _next_id(self):
        return len(self.panels) + 1

    def row(self, title):
        self._new_line()
        self.panels.append({
            "type": "row",
            "id": self._next_id(),
            "title": title,
            "collapsed": False,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
            "panels": [],
        })
        self.y += 1

    def add(self, panel, width, height=8):
        if self.x + width > 24:
            self._new_line()
        panel["id"] = self._next_id()
        panel["gridPos"] = {"h": height, "w": width, "x": self.x, "y": self.y}
        self.panels.append(panel)
        self.x += width
        self.row_height = max(self.row_height, height)

    def _new_line(self):
        self.y += self.row_height
        self.x = 0
        self.row_height = 0


def target(expr, legend="", ref_id="A", instant=False):
    result = {
        "datasource": DATASOURCE,
        "refId": ref_id,
        "expr": expr,
        "legendFormat": legend,
    }
    if instant:
        result["instant"] = True
        result["range"] = False
    return result


def with_ref_ids(targets):
    for index, item in enumerate(targets):
        item["refId"] = chr(ord("A") + index)
    return targets


def field_defaults(unit, minimum=None, maximum=None, decimals=None, thresholds=None):
    defaults = {"unit": unit}
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    if decimals is not None:
        defaults["decimals"] = decimals
    steps = [{"color": "green", "value": None}]
    for value, color in thresholds or []:
        steps.append({"color": color, "value": value})
    defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    return defaults


def timeseries(title, targets, unit, description="", minimum=0, maximum=None,
               stack=False, bars=False):
    custom = {"drawStyle": "bars" if bars else "line", "fillOpacity": 10, "lineWidth": 1}
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    defaults = field_defaults(unit, minimum, maximum)
    defaults["custom"] = custom
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": with_ref_ids(targets),
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"displayMode": "table", "placement": "bottom",
                       "calcs": ["mean", "max", "lastNotNull"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def stat(title, targets, unit, description="", decimals=None, thresholds=None):
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": with_ref_ids(targets),
        "fieldConfig": {
            "defaults": field_defaults(unit, decimals=decimals, thresholds=thresholds),
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "textMode": "value_and_name",
            "orientation": "auto",
        },
    }


def bargauge(title, targets, unit, description="", maximum=None, thresholds=None):
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": with_ref_ids(targets),
        "fieldConfig": {
            "defaults": field_defaults(unit, 0, maximum, thresholds=thresholds),
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "displayMode": "gradient",
            "orientation": "horizontal",
            "showUnfilled": True,
        },
    }


def datasource_variable():
    return {
        "type": "datasource",
        "name": "DS_PROMETHEUS",
        "label": "Data source",
        "query": "prometheus",
        "current": {"selected": False, "text": "Prometheus", "value": "prometheus"},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def query_variable(name, label, query):
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "sort": 1,
        "multi": False,
        "includeAll": False,
        "hide": 0,
        "regex": "",
        "current": {},
        "options": [],
    }


def dashboard(uid, title, description, layout, variables=()):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["fulldatos-gateway"],
        "timezone": "browser",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "annotations": {"list": []},
        "links": [{
            "type": "dashboards",
            "title": "fulldatos-gateway",
            "tags": ["fulldatos-gateway"],
            "asDropdown": True,
            "includeVars": False,
            "keepTime": True,
        }],
        "templating": {"list": [datasource_variable(), *variables]},
        "panels": layout.panels,
    }


def quantile_targets(metric, selector, by, legend_prefix):
    """Build one histogram_quantile target for each of p50, p95 and p99."""
    grouping = ", ".join([*by, "le"])
    targets = []
    for quantile, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        expr = (f"histogram_quantile({quantile}, sum by ({grouping}) "
                f"(rate({metric}_bucket{selector}[{RATE}])))")
        legend = f"{legend_prefix}{name}" if legend_prefix else name
        targets.append(target(expr, legend))
    return targets


def ratio(numerator_selector, denominator_selector, metric, by=""):
    grouping = f" by ({by})" if by else ""
    return (f"sum{grouping} (rate({metric}{numerator_selector}[{RATE}]))\n/\n"
            f"sum{grouping} (rate({metric}{denominator_selector}[{RATE}]))")


def overview_dashboard():
    layout = Layout()

    layout.row("Traffic")
    layout.add(stat(
        "Gateway instances up",
        [target('sum(up{job="fulldatos-gateway"})', "up")],
        "short", "Scraped gateway instances whose last scrape succeeded.",
        decimals=0), 4, 4)
    layout.add(stat(
        "Requests per second",
        [target(f"sum(rate(fdgw_requests_total[{RATE}]))", "requests")],
        "reqps"), 4, 4)
    layout.add(stat(
        "5xx ratio",
        [target(ratio('{code=~"5.."}', "", "fdgw_requests_total"), "5xx")],
        "percentunit", thresholds=[(0.01, "orange"), (0.05, "red")]), 4, 4)
    layout.add(stat(
        "In-flight requests",
        [target("sum(fdgw_inflight_requests)", "in flight")],
        "short", "Requests that the gateway has accepted and not yet responded to.",
        decimals=0), 4, 4)
    layout.add(stat(
        "Config reloads in range",
        [target("sum by (result) (increase(fdgw_config_reloads_total[$__range]))",
                "{{result}}")],
        "short", "Policy reloads (SIGHUP). A failed reload keeps the previous policies.",
        decimals=0), 8, 4)

    layout.add(timeseries(
        "Requests per second by route",
        [target(f"sum by (route) (rate(fdgw_requests_total[{RATE}]))", "{{route}}")],
        "reqps", 'route="none" counts requests that matched no route (404).',
        stack=True), 12)
    layout.add(timeseries(
        "Error ratio by status class",
        [target(ratio('{code=~"4.."}', "", "fdgw_requests_total"), "4xx"),
         target(ratio('{code=~"5.."}', "", "fdgw_requests_total"), "5xx"),
         target(ratio('{code="429"}', "", "fdgw_requests_total"), "429")],
        "percentunit",
        "Share of all responses. 4xx includes quota rejections (429 rate_limited) "
        "and authentication failures (401); 5xx includes upstream_unavailable (502) "
        "and upstream_timeout (504)."), 12)
    layout.add(timeseries(
        "Responses per second by status code",
        [target(f"sum by (code) (rate(fdgw_requests_total[{RATE}]))", "{{code}}")],
        "reqps", stack=True), 12)
    layout.add(timeseries(
        "In-flight requests",
        [target("sum by (instance) (fdgw_inflight_requests)", "{{instance}}")],
        "short"), 12)

    layout.row("Latency")
    layout.add(timeseries(
        "Request latency, all routes",
        quantile_targets("fdgw_request_duration_seconds", "", [], ""),
        "s", "Time from request to response, including the upstream call."), 12)
    for quantile, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        layout.add(timeseries(
            f"Request latency {name} by route",
            [target(f"histogram_quantile({quantile}, sum by (route, le) "
                    f"(rate(fdgw_request_duration_seconds_bucket[{RATE}])))", "{{route}}")],
            "s",
            "The FdgwLatencyHigh alert fires when p99 of a route stays above 1 s "
            "for 10 minutes." if name == "p99" else ""), 12)

    layout.row("Upstream")
    layout.add(timeseries(
        "Upstream calls per second by upstream",
        [target(f"sum by (upstream) (rate(fdgw_upstream_requests_total[{RATE}]))",
                "{{upstream}}")],
        "reqps"), 8)
    layout.add(timeseries(
        "Upstream failures per second by upstream and code",
        [target(f'sum by (upstream, code) (rate(fdgw_upstream_requests_total'
                f'{{code=~"{UPSTREAM_FAILURE_CODES}"}}[{RATE}]))',
                "{{upstream}} {{code}}")],
        "reqps", "401, 402, 403, 5xx, timeout, connect_error and invalid_response.",
        stack=True), 8)
    layout.add(timeseries(
        "Upstream failure ratio by upstream",
        [target(ratio(f'{{code=~"{UPSTREAM_FAILURE_CODES}"}}', "",
                      "fdgw_upstream_requests_total", "upstream"), "{{upstream}}")],
        "percentunit",
        "The FdgwUpstreamErrorsHigh alert fires above 5% over 5 minutes."), 8)

    layout.row("Authentication and configuration")
    layout.add(timeseries(
        "Authentication failures per second by reason",
        [target(f"sum by (reason) (rate(fdgw_auth_failures_total[{RATE}]))", "{{reason}}")],
        "reqps", "These requests count under tenant=\"unknown\" in fdgw_requests_total.",
        stack=True), 12)
    layout.add(timeseries(
        "Config reloads by result",
        [target(f"sum by (result) (increase(fdgw_config_reloads_total[{RATE}]))",
                "{{result}}")],
        "short", "Reloads in each interval. A failed reload keeps the previous policies.",
        bars=True), 12)

    return dashboard(
        "fdgw-overview", "fulldatos-gateway: overview",
        "Traffic, errors, latency and upstream calls of all tenants.", layout)


def tenant_dashboard():
    layout = Layout()
    tenant = 'tenant="$tenant"'

    layout.row("Traffic")
    layout.add(timeseries(
        "Requests per second by route",
        [target(f"sum by (route) (rate(fdgw_requests_total{{{tenant}}}[{RATE}]))",
                "{{route}}")],
        "reqps", stack=True), 8)
    layout.add(timeseries(
        "Error responses per second by status code",
        [target(f'sum by (code) (rate(fdgw_requests_total{{{tenant}, code!~"2.."}}[{RATE}]))',
                "{{code}}")],
        "reqps", stack=True), 8)
    layout.add(timeseries(
        "Error ratio by status class",
        [target(ratio(f'{{{tenant}, code=~"4.."}}', f"{{{tenant}}}", "fdgw_requests_total"),
                "4xx"),
         target(ratio(f'{{{tenant}, code=~"5.."}}', f"{{{tenant}}}", "fdgw_requests_total"),
                "5xx")],
        "percentunit"), 8)
    layout.add(timeseries(
        "Request latency",
        quantile_targets("fdgw_request_duration_seconds", f"{{{tenant}}}", [], ""),
        "s"), 12)
    layout.add(timeseries(
        "Request latency p99 by route",
        [target(f"histogram_quantile(0.99, sum by (route, le) "
                f"(rate(fdgw_request_duration_seconds_bucket{{{tenant}}}[{RATE}])))",
                "{{route}}")],
        "s"), 12)

    layout.row("Quotas")
    layout.add(bargauge(
        "Quota used of limit",
        [target(f"max by (quota) (fdgw_quota_used{{{tenant}}})\n/\n"
                f"max by (quota) (fdgw_quota_limit{{{tenant}}} > 0)", "{{quota}}",
                instant=True)],
        "percentunit", "Use of each quota in its current window.", maximum=1,
        thresholds=[(0.8, "orange"), (1, "red")]), 8)
    layout.add(timeseries(
        "Quota used and limit",
        [target(f"max by (quota) (fdgw_quota_used{{{tenant}}})", "{{quota}} used"),
         target(f"max by (quota) (fdgw_quota_limit{{{tenant}}})", "{{quota}} limit")],
        "short"), 8)
    layout.add(timeseries(
        "Quota rejections and fallback decisions",
        [target(f'sum by (quota, decision) (rate(fdgw_quota_decisions_total'
                f'{{{tenant}, decision!="allowed"}}[{RATE}]))', "{{quota}} {{decision}}")],
        "reqps",
        "rejected: the tenant got 429 rate_limited. failed_open and failed_closed: "
        "a Redis error, decided by the quota's fallback. local: decided without Redis.",
        stack=True), 8)

    layout.row("Orders and money")
    layout.add(stat(
        "Orders in range by result",
        [target(f"sum by (result) (increase(fdgw_orders_total{{{tenant}}}[$__range]))",
                "{{result}}")],
        "short", decimals=0), 8, 5)
    layout.add(stat(
        "Sales in range",
        [target(f"sum(increase(fdgw_sales_usd_total{{{tenant}}}[$__range]))", "sales")],
        "currencyUSD", "Marked-up order value that the tenant pays.", decimals=2), 5, 5)
    layout.add(stat(
        "Margin in range",
        [target(f"sum(increase(fdgw_margin_usd_total{{{tenant}}}[$__range]))", "margin")],
        "currencyUSD", "Sales minus the upstream cost of the same orders.", decimals=2),
        5, 5)
    layout.add(stat(
        "Margin of sales in range",
        [target(f"sum(increase(fdgw_margin_usd_total{{{tenant}}}[$__range]))\n/\n"
                f"sum(increase(fdgw_sales_usd_total{{{tenant}}}[$__range]))", "margin")],
        "percentunit"), 6, 5)
    layout.add(timeseries(
        "Orders per minute by result",
        [target(f"sum by (result) (rate(fdgw_orders_total{{{tenant}}}[{RATE}])) * 60",
                "{{result}}")],
        "opm", stack=True), 8)
    layout.add(timeseries(
        "Spend and spend limit",
        [target(f"max by (window) (fdgw_spend_usd{{{tenant}}})", "{{window}} spend"),
         target(f"max by (window) (fdgw_spend_limit_usd{{{tenant}}} > 0)", "{{window}} limit")],
        "currencyUSD", "Spend in the current day and month. A window without a limit "
        "shows no limit line."), 8)
    layout.add(bargauge(
        "Spend used of limit",
        [target(f"max by (window) (fdgw_spend_usd{{{tenant}}})\n/\n"
                f"max by (window) (fdgw_spend_limit_usd{{{tenant}}} > 0)", "{{window}}",
                instant=True)],
        "percentunit",
        "The FdgwTenantNearSpendLimit alert fires above 90%. At 100% orders get "
        "402 spend_limit_exceeded.", maximum=1,
        thresholds=[(0.9, "orange"), (1, "red")]), 8)

    return dashboard(
        "fdgw-tenant", "fulldatos-gateway: tenant",
        "Traffic, quotas, orders and spend of one tenant.", layout,
        [query_variable("tenant", "Tenant", "label_values(fdgw_requests_total, tenant)")])


def upstream_cache_dashboard():
    layout = Layout()

    layout.row("Upstream budget")
    layout.add(timeseries(
        "Upstream budget remaining by upstream",
        [target("min by (upstream) (fdgw_upstream_budget_remaining)", "{{upstream}}")],
        "short",
        "Requests left in the upstream account's current minute, shared by all "
        "tenants and gateway instances. At 0 tenants get 429 upstream_busy."), 12)
    layout.add(timeseries(
        "429 responses per second by tenant",
        [target(f'sum by (tenant) (rate(fdgw_requests_total{{code="429"}}[{RATE}]))',
                "{{tenant}}")],
        "reqps",
        "Both upstream_busy (budget exhausted or upstream 429) and rate_limited "
        "(tenant quota) 429s.", stack=True), 12)
    layout.add(timeseries(
        "upstream_busy responses per second (estimate)",
        [target(f'clamp_min(\n  sum(rate(fdgw_requests_total{{code="429"}}[{RATE}]))\n'
                f'  - (sum(rate(fdgw_quota_decisions_total{{decision="rejected"}}[{RATE}])) '
                f'or vector(0)),\n  0\n)', "upstream_busy")],
        "reqps",
        # NOTE: this assumes one rejected quota decision for each rate_limited
        # 429. A request that several quotas reject would make it too low.
        "All 429s minus quota rejections: no metric counts upstream_busy alone. "
        "It is too low when one request is rejected by several quotas."), 12)
    layout.add(timeseries(
        "Upstream 429 responses per second by upstream",
        [target(f'sum by (upstream) (rate(fdgw_upstream_requests_total{{code="429"}}[{RATE}]))',
                "{{upstream}}")],
        "reqps",
        "The budget should keep these at 0. The FdgwUpstreamRateLimited alert fires "
        "above 5 in 10 minutes."), 12)

    layout.row("Upstream calls")
    layout.add(timeseries(
        "Upstream latency by upstream",
        quantile_targets("fdgw_upstream_duration_seconds", "", ["upstream"],
                         "{{upstream}} "),
        "s"), 12)
    layout.add(timeseries(
        "Upstream latency p99 by route",
        [target(f"histogram_quantile(0.99, sum by (route, le) "
                f"(rate(fdgw_upstream_duration_seconds_bucket[{RATE}])))", "{{route}}")],
        "s"), 12)
    layout.add(timeseries(
        "Upstream responses per second by upstream and code",
        [target(f"sum by (upstream, code) (rate(fdgw_upstream_requests_total[{RATE}]))",
                "{{upstream}} {{code}}")],
        "reqps", stack=True), 24)

    layout.row("Catalog cache")
    layout.add(stat(
        "Catalog cache hit ratio",
        [target(ratio('{result="hit"}', "", "fdgw_catalog_cache_requests_total"), "hit")],
        "percentunit", "Hits of all catalog cache lookups in the last rate interval."),
        6, 8)
    layout.add(timeseries(
        "Catalog cache hit ratio over time",
        [target(ratio('{result="hit"}', "", "fdgw_catalog_cache_requests_total"), "hit"),
         target(ratio('{result=~"hit|stale"}', "", "fdgw_catalog_cache_requests_total"),
                "hit or stale")],
        "percentunit", maximum=1), 6)
    layout.add(timeseries(
        "Catalog cache lookups per second by result",
        [target(f"sum by (result) (rate(fdgw_catalog_cache_requests_total[{RATE}]))",
                "{{result}}")],
        "reqps", stack=True), 6)
    layout.add(stat(
        "Stale and failed catalog lookups in range",
        [target(f'sum by (result) (increase(fdgw_catalog_cache_requests_total'
                f'{{result=~"stale|error"}}[$__range]))', "{{result}}")],
        "short", "Lookups that returned an expired entry (stale) or failed (error).",
        decimals=0,
        thresholds=[(1, "orange")]), 6, 8)

    layout.row("Redis")
    layout.add(timeseries(
        "Redis errors per second by operation",
        [target(f"sum by (operation) (rate(fdgw_redis_errors_total[{RATE}]))",
                "{{operation}}")],
        "cps",
        "The FdgwRedisErrors alert fires above 3 errors a minute for 5 minutes.",
        stack=True), 12)
    layout.add(timeseries(
        "Quota decisions without Redis per second",
        [target(f'sum by (decision) (rate(fdgw_quota_decisions_total'
                f'{{decision=~"failed_open|failed_closed|local"}}[{RATE}]))',
                "{{decision}}")],
        "reqps",
        "failed_open and failed_closed follow a Redis error. local decisions are made "
        "without Redis.",
        stack=True), 12)

    return dashboard(
        "fdgw-upstream-cache", "fulldatos-gateway: upstream budget and catalog cache",
        "Upstream request budget, upstream calls, the catalog cache and Redis.", layout)


DASHBOARDS = {
    "fdgw-overview.json": overview_dashboard,
    "fdgw-tenant.json": tenant_dashboard,
    "fdgw-upstream-cache.json": upstream_cache_dashboard,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir", default=os.path.dirname(os.path.abspath(__file__)),
        help="directory to write the JSON files to (default: this script's directory)")
    args = parser.parse_args()

    os.makedirs(args.output_dir, exist_ok=True)
    for file_name, build in DASHBOARDS.items():
        path = os.path.join(args.output_dir, file_name)
        with open(path, "w", encoding="utf-8") as output:
            json.dump(build(), output, indent=2, sort_keys=True)
            output.write("\n")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
