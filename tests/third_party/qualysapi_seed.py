#!/usr/bin/env python3
"""The seed workflow through the unmodified third-party client `qualysapi` (PyPI 8.1.0),
against `baseliner sim --tls`, and the simulator's strictness as that client sees it
(qualys-api.md §0, §5.1, §6.1, §6.4, §7.1): a scan launched by asset_group_ids; a
host-based (Auto) template's report; raw results brief with `json`, full with
`json_extended` + `mode=extended`; unknown parameters, comma-split asset_groups naming an
unknown title, 256-character comments and report_refs on an Auto template refused.

Usage: REQUESTS_CA_BUNDLE=CA.pem qualysapi_seed.py https://127.0.0.1:PORT [USER PASSWORD]

qualysapi is configured the way its users configure it: a config file with an [info]
section (hostname, username, password) passed to qualysapi.connect(). It only builds
https:// URLs; requests trusts the simulator's throwaway CA through REQUESTS_CA_BUNDLE.
Every step checks what came back; any failure exits non-zero with the reason.
"""

import ipaddress
import json
import logging
import os
import stat
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import qualysapi
import requests

SEED_RANGE = "64.39.106.0-64.39.106.3"
SEED_IPS = {f"64.39.106.{i}" for i in range(4)}
ORG = "organization_name"
OPTION_PROFILE = "New IPs option profile"
TEMPLATE_ID = "1"  # the stock "Technical Report": TYPE Auto, TEMPLATE_TYPE Scan
SCAN_DEADLINE_S = 120
REPORT_DEADLINE_S = 60
LOOPBACK = {"127.0.0.1", "localhost"}


class Failed(Exception):
    """A step got something other than what the workflow needs."""


def check(cond, what):
    if not cond:
        raise Failed(what)


def refused(conn, api_call, data, want_code, what):
    """Sends a request the simulator must refuse with HTTP 400 and `want_code`; returns
    the refusal's TEXT. qualysapi raises requests.HTTPError on a 4xx."""
    log = logging.getLogger("qualysapi")
    level = log.level
    log.setLevel(logging.CRITICAL)  # qualysapi logs every 4xx as an error: expected here
    try:
        body = conn.request(api_call, data)
    except requests.HTTPError as e:
        status, body = e.response.status_code, e.response.text
    else:
        raise Failed(f"{what}: accepted, want HTTP 400 CODE {want_code}: {body[:300]!r}")
    finally:
        log.setLevel(level)
    text, code, _ = simple_return(body, what)
    check(
        status == 400 and code == want_code,
        f"{what}: HTTP {status} CODE {code} {text!r}, want HTTP 400 CODE {want_code}",
    )
    shown = text if len(text) <= 160 else text[:157] + "..."
    print(f"{what}: HTTP 400 CODE {code} {shown}")
    return text


def parse(xml_text, what):
    """The XML root of a response (DOCTYPE kept, never fetched: ElementTree does not)."""
    try:
        return ET.fromstring(xml_text.lstrip())
    except ET.ParseError as e:
        raise Failed(f"{what}: not XML ({e}): {xml_text[:300]!r}") from e


def simple_return(xml_text, what):
    """(TEXT, CODE or None, {KEY: VALUE}) of a SIMPLE_RETURN."""
    root = parse(xml_text, what)
    check(root.tag == "SIMPLE_RETURN", f"{what}: root <{root.tag}>, want SIMPLE_RETURN")
    text = (root.findtext("RESPONSE/TEXT") or "").strip()
    code = root.findtext("RESPONSE/CODE")
    items = {
        (i.findtext("KEY") or "").strip(): (i.findtext("VALUE") or "").strip()
        for i in root.findall("RESPONSE/ITEM_LIST/ITEM")
    }
    return text, code, items


def connect(url, user, password, workdir):
    """qualysapi.connect() from a config file, as its README describes."""
    scheme, _, host = url.partition("://")
    check(scheme == "https" and host, f"simulator URL {url!r}: want https://HOST:PORT")
    name = host.rsplit(":", 1)[0]
    check(name in LOOPBACK, f"simulator URL {url!r}: only {sorted(LOOPBACK)} are allowed")
    # requests would send even loopback traffic through an HTTPS_PROXY from the environment.
    for var in ("NO_PROXY", "no_proxy"):
        os.environ[var] = ",".join(filter(None, [os.environ.get(var), *sorted(LOOPBACK)]))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE", "")
    check(os.path.isfile(bundle), f"REQUESTS_CA_BUNDLE={bundle!r}: not a file")
    cfg = os.path.join(workdir, "qualysapi.ini")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(f"[info]\nhostname = {host}\nusername = {user}\npassword = {password}\n")
    os.chmod(cfg, stat.S_IRUSR | stat.S_IWUSR)
    return qualysapi.connect(config_file=cfg)


def add_ips(conn):
    text, code, _ = simple_return(
        conn.request(
            "api/2.0/fo/asset/ip/", {"action": "add", "ips": SEED_RANGE, "enable_vm": "1"}
        ),
        "asset ip add",
    )
    check(code is None and text.startswith("IPs successfully added"), f"asset ip add: {code} {text}")


def add_group(conn):
    text, code, items = simple_return(
        conn.request(
            "api/2.0/fo/asset/group/",
            {"action": "add", "title": ORG, "ips": SEED_RANGE, "comments": "qualysapi seed test"},
        ),
        "asset group add",
    )
    check(code is None and "successfully added" in text, f"asset group add: {code} {text}")
    check(items.get("ID", "").isdigit(), f"asset group add: ITEM ID {items.get('ID')!r}")
    return items["ID"]


def launch_scan(conn, group_id):
    """Launches by asset_group_ids: a title where Qualys parses a comma list is a hazard."""
    text, code, items = simple_return(
        conn.request(
            "api/2.0/fo/scan/",
            {
                "action": "launch",
                "scan_title": f"Baseline of {ORG}",
                "asset_group_ids": group_id,
                "option_title": OPTION_PROFILE,
            },
        ),
        "scan launch",
    )
    ref = items.get("REFERENCE", "")
    check(code is None and ref.startswith("scan/"), f"scan launch: {code} {text} REFERENCE {ref!r}")
    return ref


def wait_scan(conn, ref):
    """Polls the v3 scan list (qualysapi has no v3 route: api_version=2 gives the plain
    https://HOST/ prefix) until Finished with PROCESSED 1; returns the scan element."""
    deadline = time.monotonic() + SCAN_DEADLINE_S
    seen = []
    while True:
        root = parse(
            conn.request("api/3.0/fo/scan/", {"action": "list", "scan_ref": ref}, api_version=2),
            "scan list",
        )
        scans = root.findall("RESPONSE/SCAN_LIST/SCAN")
        check(len(scans) == 1, f"scan list for {ref}: {len(scans)} SCAN elements")
        scan = scans[0]
        check(scan.findtext("REF") == ref, f"scan list: REF {scan.findtext('REF')!r}, want {ref}")
        state = scan.findtext("STATUS/STATE")
        processed = scan.findtext("PROCESSED")
        if not seen or seen[-1] != (state, processed):
            seen.append((state, processed))
        check(state not in ("Error", "Canceled"), f"scan {ref} ended {state}")
        if state == "Finished" and processed == "1":
            print(f"scan {ref}: {' -> '.join(f'{s}/{p}' for s, p in seen)}")
            return scan
        check(time.monotonic() < deadline, f"scan {ref} not done after {SCAN_DEADLINE_S} s: {seen}")
        time.sleep(1)


def check_templates(conn):
    """Every template carries TYPE (Auto/Manual) and TEMPLATE_TYPE; the seed's is Auto/Scan."""
    root = parse(conn.request("report_template_list.php"), "template list")
    seen = {}
    for t in root.findall("REPORT_TEMPLATE"):
        tid, kind, ttype = (
            (t.findtext(k) or "").strip() for k in ("ID", "TYPE", "TEMPLATE_TYPE")
        )
        check(kind in ("Auto", "Manual"), f"template {tid}: TYPE {kind!r}")
        check(ttype, f"template {tid}: no TEMPLATE_TYPE")
        seen[tid] = (kind, ttype)
    check(seen.get(TEMPLATE_ID) == ("Auto", "Scan"), f"template {TEMPLATE_ID}: {seen.get(TEMPLATE_ID)}")
    check(("Manual", "Scan") in seen.values(), f"no Manual Scan template in {seen}")
    print(f"templates: {', '.join(f'{i} {k}/{t}' for i, (k, t) in sorted(seen.items()))}")


def launch_report(conn, ref, group_id):
    """A host-based (Auto) template takes its target from asset_group_ids; report_refs is
    refused on it."""
    base = {
        "action": "launch",
        "template_id": TEMPLATE_ID,
        "report_type": "Scan",
        "output_format": "xml",
        "report_title": f"Baseline of {ORG}",
    }
    refused(conn, "api/2.0/fo/report/", {**base, "report_refs": ref}, "1905",
            "report launch of an Auto template with report_refs")
    text, code, items = simple_return(
        conn.request("api/2.0/fo/report/", {**base, "asset_group_ids": group_id}),
        "report launch",
    )
    rid = items.get("ID", "")
    check(code is None and rid.isdigit(), f"report launch: {code} {text} ID {rid!r}")
    return rid


def wait_report(conn, rid):
    deadline = time.monotonic() + REPORT_DEADLINE_S
    while True:
        root = parse(conn.request("api/2.0/fo/report/", {"action": "list", "id": rid}), "report list")
        reports = root.findall("RESPONSE/REPORT_LIST/REPORT")
        check(len(reports) == 1, f"report list for {rid}: {len(reports)} REPORT elements")
        state = reports[0].findtext("STATUS/STATE")
        check(state not in ("Canceled", "Errors"), f"report {rid} ended {state}")
        if state == "Finished":
            return
        check(time.monotonic() < deadline, f"report {rid} not Finished after {REPORT_DEADLINE_S} s")
        time.sleep(1)


def fetch_report(conn, rid):
    """The report's findings as {(ip, qid)}."""
    root = parse(conn.request("api/2.0/fo/report/", {"action": "fetch", "id": rid}), "report fetch")
    check(root.tag == "ASSET_DATA_REPORT", f"report fetch: root <{root.tag}>")
    groups = [
        (g.text or "").strip()
        for g in root.findall("HEADER/TARGET/USER_ASSET_GROUPS/ASSET_GROUP_TITLE")
    ]
    check(groups == [ORG], f"report TARGET asset groups {groups}, want [{ORG}]")
    found = set()
    for host in root.findall("HOST_LIST/HOST"):
        ip = host.findtext("IP")
        check(ip in SEED_IPS, f"report host {ip} is not a seed address")
        for qid in host.findall("VULN_INFO_LIST/VULN_INFO/QID"):
            found.add((ip, (qid.text or "").strip()))
    check(found, "report lists no findings")
    return found


def fetch_json(conn, ref, extra, what):
    """The raw results as a list of JSON objects."""
    text = conn.request("api/2.0/fo/scan/", {"action": "fetch", "scan_ref": ref, **extra})
    try:
        records = json.loads(text)
    except ValueError as e:
        raise Failed(f"{what}: not JSON ({e}): {text[:300]!r}") from e
    check(isinstance(records, list), f"{what}: {type(records).__name__}, want a list")
    check(all(isinstance(r, dict) for r in records), f"{what}: not every element is an object")
    return records


def fetch_brief(conn, ref):
    """`output_format=json` without `mode` is brief (§6.4): findings only, no severity."""
    records = fetch_json(conn, ref, {"output_format": "json"}, "scan fetch (json)")
    check(records, "scan fetch (json): no records")
    for r in records:
        check("qid" in r and "ip" in r, f"scan fetch (json): not a finding: {r}")
        check("severity" not in r and "title" not in r, f"scan fetch (json): not brief: {r}")
    print(f"scan fetch (json): {len(records)} brief records, keys {sorted(records[0])}")
    return {(r["ip"], r["qid"]) for r in records}


def fetch_raw(conn, ref):
    """`json_extended` + `mode=extended`: metadata first, full findings, the scanner
    distribution last. The findings as {(ip, qid)}, with their severities checked."""
    records = fetch_json(
        conn, ref, {"output_format": "json_extended", "mode": "extended"},
        "scan fetch (json_extended)",
    )
    check(len(records) >= 4, f"scan fetch (json_extended): {len(records)} elements")
    check("reference" in records[1] and "qid" not in records[1],
          f"scan fetch (json_extended): second element is not the scan metadata: {records[1]}")
    check(list(records[-1]) == ["target_distribution_across_scanner_appliances"],
          f"scan fetch (json_extended): last element {records[-1]}")
    summary = [r for r in records if "reference" in r]
    check(len(summary) == 1, f"scan fetch: {len(summary)} scan summary records")
    check(summary[0]["reference"] == ref, f"scan fetch: reference {summary[0]['reference']!r}")
    check(summary[0].get("ips") == SEED_RANGE, f"scan fetch: ips {summary[0].get('ips')!r}")
    found, severities = set(), []
    for r in records:
        if not isinstance(r, dict) or "qid" not in r:
            continue
        check(r.get("ip") in SEED_IPS, f"raw finding on {r.get('ip')!r}, not a seed address")
        sev = r.get("severity", "")
        check(sev in {"1", "2", "3", "4", "5"}, f"raw finding {r['qid']} severity {sev!r}")
        severities.append(int(sev))
        found.add((r["ip"], r["qid"]))
    check(found, "scan fetch: no findings")
    first = next(i for i, r in enumerate(records) if "qid" in r)
    check(first == 2, f"scan fetch (json_extended): first finding at {first}, want 2")
    tail = [k for r in records[first:] if "qid" not in r for k in r]
    print(f"scan fetch (json_extended): metadata, {len(found)} findings, then {tail}")
    return found, severities


def check_strictness(conn, group_id):
    """What Qualys refuses, the simulator refuses (§0, §5.1, §6.1)."""
    refused(conn, "api/2.0/fo/scan/", {"action": "list", "bogus_param": "1"}, "1901",
            "unknown parameter")
    text = refused(
        conn, "api/2.0/fo/scan/",
        {"action": "launch", "asset_groups": f"{ORG}, Inc.", "option_title": OPTION_PROFILE},
        "1905", "comma-split asset_groups naming an unknown title",
    )
    check("Inc." in text, f"the refusal should name the unknown part 'Inc.': {text!r}")
    refused(conn, "api/2.0/fo/asset/group/",
            {"action": "add", "title": f"{ORG} long comments", "comments": "c" * 256},
            "1905", "asset group with 256-character comments")
    refused(conn, "api/2.0/fo/asset/group/",
            {"action": "edit", "id": group_id, "set_comments": "c" * 256},
            "1905", "asset group edit with 256-character comments")


def run(url, user, password):
    with tempfile.TemporaryDirectory(prefix="qualysapi-seed-") as workdir:
        conn = connect(url, user, password, workdir)
        add_ips(conn)
        group_id = add_group(conn)
        check_strictness(conn, group_id)
        check_templates(conn)
        ref = launch_scan(conn, group_id)
        scan = wait_scan(conn, ref)
        target = (scan.findtext("TARGET") or "").strip()
        check(target == SEED_RANGE, f"scan TARGET {target!r}, want {SEED_RANGE}")
        rid = launch_report(conn, ref, group_id)
        wait_report(conn, rid)
        in_report = fetch_report(conn, rid)
        in_brief = fetch_brief(conn, ref)
        in_raw, severities = fetch_raw(conn, ref)
        check(in_brief == in_raw, "brief and extended raw results list different findings")
        check(
            in_report == in_raw,
            f"report and raw results disagree: only in report {sorted(in_report - in_raw)}, "
            f"only in raw {sorted(in_raw - in_report)}",
        )
        remaining = conn.rate_limit_remaining["api/2.0/fo/scan/"]
        check(remaining > 0, f"qualysapi read X-RateLimit-Remaining {remaining}, want > 0")
        hosts = sorted({ip for ip, _ in in_raw}, key=ipaddress.ip_address)
        print(
            f"asset group {group_id}, scan {ref}, report {rid}: {len(in_raw)} findings on "
            f"{', '.join(hosts)}, worst severity {max(severities)}"
        )


def main(argv):
    if len(argv) not in (2, 4):
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    user, password = (argv[2], argv[3]) if len(argv) == 4 else ("demo", "demo")
    try:
        run(argv[1], user, password)
    except Failed as e:
        print(f"qualysapi seed workflow FAILED: {e}", file=sys.stderr)
        return 1
    print(f"qualysapi {qualysapi.version.__version__}: seed workflow ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
