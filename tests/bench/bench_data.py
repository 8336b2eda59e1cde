#!/usr/bin/env python3
"""Data helpers for run.sh: catalog conversion, tenant files and the report.

Every command writes only to the paths given on its command line, which
run.sh places in its temporary folder.
"""

import argparse
import hashlib
import json
import secrets
import sys

# Bundle groups of the catalog snapshot and the simulator profile of each.
PROFILE_BY_GROUP = {
    "Standard Fixed": "standard",
    "Standard Unlimited Essential": "unlimited-essential",
    "Standard Unlimited Plus": "unlimited-plus",
    "Standard Unlimited Lite": "unlimited-lite",
}


def convert_snapshot(args):
    """Convert the eSIM catalog snapshot into the simulator's --catalog format."""
    with open(args.source, encoding="utf-8") as source:
        rows = json.load(source)

    offers = []
    seen_skus = set()
    skipped = 0
    for row in rows:
        sku = row.get("esim_go_name")
        countries = [code for code in row.get("countries") or [] if len(code) == 2 and code.isupper()]
        price = row.get("price")
        unlimited = bool(row.get("is_unlimited"))
        data_mb = row.get("data_amount_mb")
        if not sku or sku in seen_skus or not countries or price is None or (not unlimited and not data_mb):
            skipped += 1
            continue
        seen_skus.add(sku)

        groups = row.get("groups") or []
        profile = next((PROFILE_BY_GROUP[g] for g in groups if g in PROFILE_BY_GROUP), None)
        if profile is None:
            profile = "unlimited-essential" if unlimited else "standard"
        # The snapshot has USD prices only. MXN uses the rate that the simulator
        # is started with, so both currencies stay consistent.
        usd = round(float(price), 2)
        offers.append({
            "sku": sku,
            "name": row.get("description") or sku,
            "name_es": row.get("description") or sku,
            "countries": countries,
            "region": row.get("region") or "",
            "data_gb": None if unlimited else data_mb / 1000,
            "unlimited": unlimited,
            "validity_days": int(row.get("validity_in_days") or 30),
            "profile": profile,
            "status": "active",
            "price": {"usd": usd, "mxn": round(usd * args.exchange_rate, 2)},
            "provider": {"name": "catalog snapshot 2025-08-09"},
            "networks": [{"country": code, "technologies": row.get("speed") or []} for code in countries],
        })

    with open(args.destination, "w", encoding="utf-8") as destination:
        json.dump(offers, destination)
    print(f"converted {len(offers)} offers; skipped {skipped} rows with a repeated SKU, no price, no data "
          "amount, or no ISO alpha-2 country code (such as CYP)", file=sys.stderr)


def merge_pages(args):
    """Join captured catalog pages into one response that lists every offer."""
    offers = []
    for path in args.pages:
        with open(path, encoding="utf-8") as page:
            document = json.load(page)
        if not document.get("success"):
            sys.exit(f"error: captured page {path} is not a success response")
        offers.extend(document["data"])
    merged = {
        "success": True,
        "data": offers,
        "pagination": {"page": 1, "limit": len(offers), "total": len(offers)},
    }
    with open(args.destination, "w", encoding="utf-8") as destination:
        json.dump(merged, destination, separators=(",", ":"))


def repeat_offers(args):
    """Write a --catalog file of exactly COUNT offers, repeating captured ones under new SKUs.

    fulldatos-sim generates at most one offer per combination of its
    destinations, sizes and validities, so larger catalogs repeat those offers.
    """
    with open(args.source, encoding="utf-8") as source:
        offers = json.load(source)["data"]
    if not offers:
        sys.exit(f"error: {args.source} lists no offers")
    result = []
    while len(result) < args.count:
        copy_number = len(result) // len(offers)
        offer = dict(offers[len(result) % len(offers)])
        if copy_number > 0:
            offer["sku"] = f"{offer['sku']}-R{copy_number}"
        result.append(offer)
    with open(args.destination, "w", encoding="utf-8") as destination:
        json.dump(result, destination)


def write_tenants(args):
    """Write a tenants.yaml with the named tenants plus generated filler tenants."""
    lines = ["tenants:"]
    for index in range(args.filler):
        key = f"fill{index:028d}"
        secret_hash = hashlib.sha256(secrets.token_hex(32).encode()).hexdigest()
        lines += [
            f"  filler-{index}:",
            f"    plan: {args.plan}",
            f"    upstream: {args.filler_upstream}",
            "    keys:",
            f"      - key: {key}",
            f"        secret_sha256: {secret_hash}",
        ]
    # The named tenants come last, so a key lookup that scans the list in
    # order would show up as latency that grows with the filler count.
    for spec in args.tenant:
        tenant_id, upstream, key, secret = spec.split(":", 3)
        lines += [
            f"  {tenant_id}:",
            f"    plan: {args.plan}",
            f"    upstream: {upstream}",
            "    keys:",
            f"      - key: {key}",
            f"        secret_sha256: {hashlib.sha256(secret.encode()).hexdigest()}",
        ]
    with open(args.destination, "w", encoding="utf-8") as destination:
        destination.write("\n".join(lines) + "\n")


def extract_field(args):
    """Print one value of a JSON document, addressed as dot-separated keys and indexes."""
    with open(args.file, encoding="utf-8") as source:
        value = json.load(source)
    for part in args.path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    print(value)


def read_records(path):
    """Read run.sh's result lines: whitespace-separated key=value pairs."""
    records = []
    with open(path, encoding="utf-8") as source:
        for line in source:
            fields = dict(item.split("=", 1) for item in line.split())
            if fields:
                records.append(fields)
    return records


def requests_per_second(record):
    return int(record["requests"]) / (int(record["duration_us"]) / 1e6)


def milliseconds(record, key):
    return int(record[key]) / 1000


def per_request(record, key, scale=1.0):
    """Return record[key] * scale divided by the request count, or None."""
    if key not in record or int(record["requests"]) == 0:
        return None
    return float(record[key]) * scale / int(record["requests"])


def cpu_microseconds(record, key="cpu_ticks"):
    ticks = per_request(record, key)
    return None if ticks is None else ticks * 1e6 / int(record["clock_ticks"])


def megabytes(record, key):
    return int(record[key]) / 1024 if key in record else None


def text(value, digits=2):
    return "n/a" if value is None else f"{value:.{digits}f}"


def pair_records(records, kind):
    """Group records of one kind by case, as {case: {side: record}}, in file order."""
    cases = {}
    for record in records:
        if record.get("kind") == kind:
            cases.setdefault(record["case"], {})[record["side"]] = record
    return cases


def scenario_table(records):
    rows = [
        "| scenario | connections (pause) | gateway req/s | nginx req/s | gateway ÷ nginx "
        "| p50 ms gateway / nginx | p99 ms gateway / nginx | added p50 ms | added p99 ms "
        "| gateway CPU µs/req | nginx CPU µs/req | Redis CPU µs/req | gateway peak RSS MB | Redis commands/req |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, sides in pair_records(records, "scenario").items():
        gateway, nginx = sides.get("gateway"), sides.get("nginx")
        if gateway is None or nginx is None:
            continue
        load = gateway["connections"]
        if int(gateway.get("pause_ms", "0")) > 0:
            load += f" ({gateway['pause_ms']} ms)"
        rows.append("| " + " | ".join([
            case.replace("_", " "),
            load,
            text(requests_per_second(gateway), 0),
            text(requests_per_second(nginx), 0),
            text(requests_per_second(gateway) / requests_per_second(nginx)),
            f"{text(milliseconds(gateway, 'p50_us'))} / {text(milliseconds(nginx, 'p50_us'))}",
            f"{text(milliseconds(gateway, 'p99_us'))} / {text(milliseconds(nginx, 'p99_us'))}",
            text(milliseconds(gateway, "p50_us") - milliseconds(nginx, "p50_us")),
            text(milliseconds(gateway, "p99_us") - milliseconds(nginx, "p99_us")),
            text(cpu_microseconds(gateway), 1),
            text(cpu_microseconds(nginx), 1),
            text(cpu_microseconds(gateway, "redis_cpu_ticks"), 1),
            text(megabytes(gateway, "hwm_kb"), 1),
            text(per_request(gateway, "redis_calls")),
        ]) + " |")
    return rows


def tenant_table(records):
    rows = [
        "| tenants | gateway RSS with warm cache MB | gateway peak RSS after run MB | req/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for record in records:
        if record.get("kind") != "tenants":
            continue
        rows.append("| " + " | ".join([
            record["case"],
            text(megabytes(record, "rss_start_kb"), 1),
            text(megabytes(record, "hwm_kb"), 1),
            text(requests_per_second(record), 0),
            text(milliseconds(record, "p50_us")),
            text(milliseconds(record, "p99_us")),
        ]) + " |")
    return rows


def offer_table(records):
    rows = [
        "| offers in the cache | page KB | connections | gateway req/s | nginx req/s | gateway ÷ nginx "
        "| p50 ms gateway / nginx | p99 ms gateway / nginx | gateway RSS with warm cache MB "
        "| gateway peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, sides in pair_records(records, "offers").items():
        gateway, nginx = sides.get("gateway"), sides.get("nginx")
        if gateway is None or nginx is None:
            continue
        rows.append("| " + " | ".join([
            case.replace("_", " "),
            text(int(gateway["response_bytes"]) / 1024, 0),
            gateway["connections"],
            text(requests_per_second(gateway), 0),
            text(requests_per_second(nginx), 0),
            text(requests_per_second(gateway) / requests_per_second(nginx)),
            f"{text(milliseconds(gateway, 'p50_us'))} / {text(milliseconds(nginx, 'p50_us'))}",
            f"{text(milliseconds(gateway, 'p99_us'))} / {text(milliseconds(nginx, 'p99_us'))}",
            text(megabytes(gateway, "rss_warm_kb"), 1),
            text(megabytes(gateway, "hwm_kb"), 1),
        ]) + " |")
    return rows


def filtered_table(records):
    rows = [
        "| offers in the cache | response KB | connections | gateway req/s | p50 ms | p99 ms "
        "| gateway CPU µs/req |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in records:
        if record.get("kind") != "offers_filtered":
            continue
        rows.append("| " + " | ".join([
            record["case"].replace("_", " "),
            text(int(record["response_bytes"]) / 1024, 0),
            record["connections"],
            text(requests_per_second(record), 0),
            text(milliseconds(record, "p50_us")),
            text(milliseconds(record, "p99_us")),
            text(cpu_microseconds(record), 1),
        ]) + " |")
    return rows


def target_lines(records):
    """Compare scenario figures with the targets and return (lines, all_met)."""
    scenarios = pair_records(records, "scenario")
    lines = []
    all_met = True

    def judge(name, value, limit, met, unit=""):
        nonlocal all_met
        if value is None:
            lines.append(f"- {name}: not measured")
            all_met = False
            return
        all_met = all_met and met
        lines.append(f"- {name}: {value:.2f}{unit} (target {limit}) {'met' if met else 'MISSED'}")

    half = scenarios.get("1_esims.get_half_peak", {})
    if "gateway" in half and "nginx" in half:
        added = milliseconds(half["gateway"], "p99_us") - milliseconds(half["nginx"], "p99_us")
        judge("added p99 on scenario 1 at half peak", added, "< 1 ms", added < 1.0, " ms")
    else:
        judge("added p99 on scenario 1 at half peak", None, "< 1 ms", False)

    peak = scenarios.get("1_esims.get", {})
    if "gateway" in peak and "nginx" in peak:
        ratio = requests_per_second(peak["gateway"]) / requests_per_second(peak["nginx"])
        judge("scenario 1 throughput gateway ÷ nginx", ratio, ">= 0.7", ratio >= 0.7)
    else:
        judge("scenario 1 throughput gateway ÷ nginx", None, ">= 0.7", False)

    sample = next((r for r in records if r.get("kind") == "redis"), None)
    if sample is None:
        judge("Redis round trips per request on scenario 1", None, "<= 1", False)
    else:
        # Requests still in flight when wrk stops reach Redis but are not
        # counted by wrk, so up to one extra round trip per connection is allowed.
        counted = int(sample["requests"]) + int(sample["connections"])
        judge("Redis round trips per request on scenario 1", per_request(sample, "round_trips"), "<= 1",
              int(sample["round_trips"]) <= counted)

    for case, label in [("2_catalog_page_generated", "generated catalog"),
                        ("2_catalog_page_snapshot", "catalog snapshot")]:
        sides = scenarios.get(case, {})
        name = f"scenario 2 throughput gateway ÷ nginx serving the raw page, {label}"
        if "gateway" in sides and "nginx" in sides:
            ratio = requests_per_second(sides["gateway"]) / requests_per_second(sides["nginx"])
            judge(name, ratio, ">= 1.0", ratio >= 1.0)
        elif case == "2_catalog_page_generated":
            judge(name, None, ">= 1.0", False)
    return lines, all_met


def redis_lines(records):
    """Describe the MONITOR sample: round trips and script commands per request."""
    lines = []
    for record in records:
        if record.get("kind") != "redis":
            continue
        lines.append(
            f"Redis round trips per request on scenario {record['case'].replace('_', ' ')}, from a MONITOR "
            f"sample of {record['requests']} requests: {text(per_request(record, 'round_trips'))} "
            f"(plus {text(per_request(record, 'script_commands'))} commands run inside Lua scripts). "
            "The Redis column above counts both kinds, as INFO commandstats does.")
    return lines


def report(args):
    """Print the result tables as markdown."""
    records = read_records(args.results)
    sections = [
        ("Scenarios (gateway and plain nginx proxy in front of the same upstream)", scenario_table(records)),
        ("Configured tenants (scenario 2 page through the gateway)", tenant_table(records)),
        ("Catalog size (page of 500 from the warm cache, nginx passing the raw page)", offer_table(records)),
        ("Catalog size (?country=MX&limit=500 from the warm cache, gateway only)", filtered_table(records)),
    ]
    output = []
    for title, rows in sections:
        if len(rows) > 2:
            output += [f"### {title}", ""] + rows + [""]
        if rows is sections[0][1]:
            output += [line + "\n" for line in redis_lines(records)]
    if args.targets:
        lines, _ = target_lines(records)
        output += ["### Targets", ""] + lines + [""]
    print("\n".join(output))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    convert = commands.add_parser("convert-snapshot", help="convert the catalog snapshot for fulldatos-sim --catalog")
    convert.add_argument("source")
    convert.add_argument("destination")
    convert.add_argument("--exchange-rate", type=float, required=True, help="MXN per USD")
    convert.set_defaults(handler=convert_snapshot)

    merge = commands.add_parser("merge-pages", help="join captured catalog pages into one response")
    merge.add_argument("destination")
    merge.add_argument("pages", nargs="+")
    merge.set_defaults(handler=merge_pages)

    repeat = commands.add_parser("repeat-offers", help="write a --catalog file of COUNT offers from a captured one")
    repeat.add_argument("source", help="a whole-catalog response written by merge-pages")
    repeat.add_argument("destination")
    repeat.add_argument("--count", type=int, required=True)
    repeat.set_defaults(handler=repeat_offers)

    tenants = commands.add_parser("tenants", help="write a tenants.yaml")
    tenants.add_argument("destination")
    tenants.add_argument("--plan", required=True)
    tenants.add_argument("--filler", type=int, default=0, help="number of generated tenants")
    tenants.add_argument("--filler-upstream", default="static")
    tenants.add_argument("--tenant", action="append", default=[], help="ID:UPSTREAM:KEY:SECRET")
    tenants.set_defaults(handler=write_tenants)

    extract = commands.add_parser("extract", help="print one value of a JSON file")
    extract.add_argument("file")
    extract.add_argument("path", help="dot-separated keys and list indexes, such as data.esims.0.esim_id")
    extract.set_defaults(handler=extract_field)

    table = commands.add_parser("report", help="print the result tables as markdown")
    table.add_argument("results")
    table.add_argument("--targets", action="store_true", help="add the comparison with the targets")
    table.set_defaults(handler=report)

    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
