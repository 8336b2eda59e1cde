#!/usr/bin/env bash
# Checks the operator assets: the Prometheus alerting rules and their unit
# tests, the sample Prometheus configuration, and the Grafana dashboards.
# Prints PASS or FAIL for each check, then "N passed, M failed". Exits 1 when
# any check fails.
#
# Needs promtool and python3 (standard library only). When promtool is
# missing and the script runs as root, it installs Debian's prometheus
# package, which contains promtool. NOTE: on a host with a running systemd,
# that package also starts a Prometheus server on port 9090.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prometheus_dir="$root/deploy/prometheus"
dashboards_dir="$root/dashboards"
fixtures_dir="$root/tests/ops/fixtures"
dashboards=(fdgw-overview.json fdgw-tenant.json fdgw-upstream-cache.json)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0

# Runs a command as one check, and prints its output only when it fails.
run_check() {
  local name=$1
  shift
  local output
  if output=$("$@" 2>&1); then
    echo "PASS: $name"
    passed=$((passed + 1))
  else
    echo "FAIL: $name"
    printf '%s\n' "$output" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
}

record_failure() {
  echo "FAIL: $1"
  failed=$((failed + 1))
}

# The metric checks, written to a file so that each check runs it as a
# separate command.
checker="$work/check_assets.py"
cat >"$checker" <<'PYTHON'
"""Checks the dashboards and alert rules of fulldatos-gateway.

Subcommands:
  dashboard FILE          panels have a title, a unit and queries that use only
                          the gateway's metrics and `up`
  rules FILE              alert rules use only those metrics and have a
                          severity label and summary and description annotations
  coverage RULES TESTS    every alert has a test case where it fires and one
                          where it must not
  promql-rules OUT FILE…  writes every dashboard query as a recording rule, so
                          that `promtool check rules OUT` parses them
"""

import json
import re
import sys

# The metrics that the gateway exports on its admin listener, and `up`, which
# Prometheus adds for every scrape target.
COUNTERS_AND_GAUGES = {
    "fdgw_requests_total",
    "fdgw_upstream_requests_total",
    "fdgw_upstream_budget_remaining",
    "fdgw_quota_decisions_total",
    "fdgw_auth_failures_total",
    "fdgw_catalog_cache_requests_total",
    "fdgw_redis_errors_total",
    "fdgw_orders_total",
    "fdgw_sales_usd_total",
    "fdgw_margin_usd_total",
    "fdgw_config_reloads_total",
    "fdgw_inflight_requests",
    "fdgw_spend_usd",
    "fdgw_spend_limit_usd",
    "fdgw_spend_reconciliations_total",
    "fdgw_quota_limit",
    "fdgw_quota_used",
    "up",
}
HISTOGRAMS = {"fdgw_request_duration_seconds", "fdgw_upstream_duration_seconds"}
KNOWN_METRICS = COUNTERS_AND_GAUGES | {
    f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")
}

PROMQL_FUNCTIONS = {
    # Aggregation operators.
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
    "count_values", "bottomk", "topk", "quantile",
    # Functions.
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max",
    "clamp_min", "day_of_month", "day_of_week", "day_of_year", "days_in_month",
    "delta", "deriv", "exp", "floor", "histogram_quantile", "holt_winters",
    "hour", "idelta", "increase", "irate", "label_join", "label_replace", "ln",
    "log2", "log10", "minute", "month", "predict_linear", "rate", "resets",
    "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp",
    "vector", "year", "avg_over_time", "min_over_time", "max_over_time",
    "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time",
    "stdvar_over_time", "last_over_time", "present_over_time",
}
PROMQL_KEYWORDS = {
    "and", "or", "unless", "offset", "bool", "inf", "nan", "atan2", "by", "without",
    "on", "ignoring", "group_left", "group_right",
}

# Grafana's variables, replaced by values that PromQL accepts.
GRAFANA_VARIABLE_VALUES = {
    "__rate_interval": "1m", "__interval": "1m", "__range": "1h",
}


def find_names(expr):
    """Return (metric names, function names) that a PromQL expression uses."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                  " ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    metrics, functions = [], []
    # The lookbehind skips the unit of a duration (15m) and the exponent of a
    # number (1e3).
    for match in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if name in PROMQL_KEYWORDS:
            continue
        if call:
            functions.append(name)
        else:
            metrics.append(name)
    return metrics, functions


def check_expr(expr, where):
    """Return the problems of one query, each prefixed with where it is."""
    problems = []
    if not expr.strip():
        return [f"{where}: empty query"]
    if "__name__" in expr:
        problems.append(f"{where}: selects metrics by __name__, which hides their names")
    metrics, functions = find_names(expr)
    for name in functions:
        if name not in PROMQL_FUNCTIONS:
            problems.append(f"{where}: unknown function {name}()")
    for name in metrics:
        if name not in KNOWN_METRICS:
            problems.append(f"{where}: unknown metric {name} in: {expr}")
    if not metrics:
        problems.append(f"{where}: query reads no metric: {expr}")
    return problems


def iter_panels(panels):
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def check_dashboard(path):
    with open(path, encoding="utf-8") as source:
        dashboard = json.load(source)
    problems = []
    if not dashboard.get("uid"):
        problems.append(f"{path}: missing dashboard uid")
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query or "")
        expr = match.group(1) if match else query or ""
        problems += check_expr(expr, f"variable {variable.get('name')}")
    panel_count = 0
    for panel in iter_panels(dashboard.get("panels", [])):
        if panel.get("type") == "row":
            continue
        panel_count += 1
        title = panel.get("title", "").strip()
        where = f"panel {panel.get('id')} \"{title}\""
        if not title:
            problems.append(f"{where}: missing title")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            problems.append(f"{where}: missing unit in fieldConfig.defaults.unit")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{where}: no query")
        for item in targets:
            problems += check_expr(item.get("expr", ""),
                                   f"{where} query {item.get('refId')}")
    if panel_count == 0:
        problems.append(f"{path}: no panels")
    return problems, f"{panel_count} panels"


def read_rule_blocks(path):
    """Return the lines of each rule in a rules file, one list per rule."""
    blocks = []
    with open(path, encoding="utf-8") as source:
        for line in source:
            if re.match(r"\s*- (?:alert|record):", line):
                blocks.append([])
            elif re.match(r"\s*- name:", line):
                blocks.append(None)
                continue
            if blocks and blocks[-1] is not None:
                blocks[-1].append(line.rstrip("\n"))
    return [block for block in blocks if block]


def read_expr(block):
    """Return the expr of a rule block, plain, quoted or a block scalar."""
    for index, line in enumerate(block):
        match = re.match(r"(\s*)expr:\s*(.*)$", line)
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2).strip()
        if value and value[0] in "|>":
            lines = []
            for following in block[index + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                lines.append(following.strip())
            return " ".join(lines)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        return value
    return ""


def check_rules(path):
    problems = []
    alerts = 0
    for block in read_rule_blocks(path):
        name = re.sub(r"\s*- (?:alert|record):\s*", "", block[0]).strip()
        problems += check_expr(read_expr(block), f"rule {name}")
        if "- alert:" not in block[0]:
            continue
        alerts += 1
        text = "\n".join(block)
        if not re.search(r"^\s+severity:\s*(critical|warning|info)\s*$", text, re.M):
            problems.append(f"alert {name}: missing severity label (critical, warning or info)")
        for annotation in ("summary", "description"):
            if not re.search(rf"^\s+{annotation}:\s*\S", text, re.M):
                problems.append(f"alert {name}: missing {annotation} annotation")
    if alerts == 0:
        problems.append(f"{path}: no alerting rules")
    return problems, f"{alerts} alerts"


def check_coverage(rules_path, tests_path):
    alerts = []
    for block in read_rule_blocks(rules_path):
        match = re.match(r"\s*- alert:\s*(\S+)", block[0])
        if match:
            alerts.append(match.group(1))
    firing, silent = set(), set()
    with open(tests_path, encoding="utf-8") as source:
        lines = [line for line in source if not line.lstrip().startswith("#")]
    for index, line in enumerate(lines):
        match = re.match(r"\s*alertname:\s*(\S+)", line)
        if not match:
            continue
        for following in lines[index + 1:]:
            expected = re.match(r"\s*exp_alerts:\s*(.*)$", following)
            if expected:
                (silent if expected.group(1).strip() == "[]" else firing).add(match.group(1))
                break
            if re.match(r"\s*- eval_time:", following):
                break
    problems = []
    for alert in alerts:
        if alert not in firing:
            problems.append(f"alert {alert}: no test case where it fires")
        if alert not in silent:
            problems.append(f"alert {alert}: no test case where it must not fire (exp_alerts: [])")
    for alert in sorted((firing | silent) - set(alerts)):
        problems.append(f"{tests_path}: tests alert {alert}, which {rules_path} does not define")
    return problems, f"{len(alerts)} alerts covered"


def write_promql_rules(output_path, dashboard_paths):
    def substitute(match):
        return GRAFANA_VARIABLE_VALUES.get(match.group(1), "example")

    lines = ["groups:", "  - name: dashboard_queries", "    rules:"]
    count = 0
    for path in dashboard_paths:
        with open(path, encoding="utf-8") as source:
            dashboard = json.load(source)
        for panel in iter_panels(dashboard.get("panels", [])):
            for item in panel.get("targets", []):
                count += 1
                expr = re.sub(r"\$\{?(\w+)\}?", substitute, item.get("expr", ""))
                lines.append(f"      - record: dashboard_query_{count}")
                # A JSON string is a valid YAML double-quoted scalar.
                lines.append(f"        expr: {json.dumps(expr)}")
    with open(output_path, "w", encoding="utf-8") as output:
        output.write("\n".join(lines) + "\n")
    return [], f"{count} queries"


def main(argv):
    command, arguments = argv[1], argv[2:]
    if command == "dashboard":
        problems, summary = check_dashboard(arguments[0])
    elif command == "rules":
        problems, summary = check_rules(arguments[0])
    elif command == "coverage":
        problems, summary = check_coverage(arguments[0], arguments[1])
    elif command == "promql-rules":
        problems, summary = write_promql_rules(arguments[0], arguments[1:])
    else:
        print(f"unknown subcommand {command}: expected dashboard, rules, coverage "
              "or promql-rules", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
PYTHON

# Passes when the metric check rejects the fixture dashboard and names each of
# its planted mistakes, so that a checker that accepts everything fails here.
check_fixture_rejected() {
  local output
  if output=$(python3 "$checker" dashboard "$fixtures_dir/bad_dashboard.json" 2>&1); then
    echo "the check accepted $fixtures_dir/bad_dashboard.json"
    return 1
  fi
  local expected
  for expected in "unknown metric fdgw_request_total" \
                  "unknown metric fdgw_request_duration_seconds " \
                  "unknown metric fdgw_tenant_balance_usd" \
                  "missing unit" "missing title" "unknown function rat()"; do
    if ! grep -qF -- "$expected" <<<"$output"; then
      echo "expected a problem containing \"$expected\", got:"
      printf '%s\n' "$output"
      return 1
    fi
  done
  if grep -qF -- '"Valid panel' <<<"$output"; then
    echo "the check rejected the fixture's valid panel:"
    printf '%s\n' "$output"
    return 1
  fi
}

# Passes when the committed dashboards equal the generator's output.
check_dashboards_generated() {
  python3 "$dashboards_dir/generate_dashboards.py" --output-dir "$work/generated" || return 1
  local name
  local status=0
  for name in "${dashboards[@]}"; do
    if ! diff -u "$dashboards_dir/$name" "$work/generated/$name"; then
      echo "$name differs from the output of dashboards/generate_dashboards.py;" \
           "run it and commit the result"
      status=1
    fi
  done
  return $status
}

check_dashboard_promql() {
  python3 "$checker" promql-rules "$work/dashboard_queries.yml" \
    "${dashboards[@]/#/$dashboards_dir/}" || return 1
  promtool check rules "$work/dashboard_queries.yml"
}

if ! command -v promtool >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  echo "promtool not found: installing Debian's prometheus package"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus; } \
      >"$work/apt.log" 2>&1; then
    sed 's/^/    /' "$work/apt.log"
  fi
fi

if command -v promtool >/dev/null 2>&1; then
  # promtool resolves rule_files relative to the file that names them, so
  # these checks work from any directory.
  run_check "promtool check rules alerts.yml" \
    promtool check rules "$prometheus_dir/alerts.yml"
  run_check "promtool test rules alerts_test.yml" \
    promtool test rules "$prometheus_dir/alerts_test.yml"
  run_check "promtool check config prometheus.yml" \
    promtool check config "$prometheus_dir/prometheus.yml"
  run_check "dashboard queries parse as PromQL" check_dashboard_promql
else
  echo "promtool is missing: install Debian's prometheus package (apt-get install prometheus)"
  record_failure "promtool check rules alerts.yml"
  record_failure "promtool test rules alerts_test.yml"
  record_failure "promtool check config prometheus.yml"
  record_failure "dashboard queries parse as PromQL"
fi

run_check "alerts.yml uses known metrics and has severity, summary, description" \
  python3 "$checker" rules "$prometheus_dir/alerts.yml"
run_check "alerts_test.yml has a firing and a silent case for every alert" \
  python3 "$checker" coverage "$prometheus_dir/alerts.yml" "$prometheus_dir/alerts_test.yml"

for name in "${dashboards[@]}"; do
  run_check "$name is valid JSON" python3 -m json.tool "$dashboards_dir/$name"
  run_check "$name panels have titles, units and known metrics" \
    python3 "$checker" dashboard "$dashboards_dir/$name"
done
run_check "dashboards match generate_dashboards.py" check_dashboards_generated
run_check "metric check rejects fixtures/bad_dashboard.json" check_fixture_rejected

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
