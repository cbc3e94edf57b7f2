#!/usr/bin/env python3
"""The seed workflow through the unmodified third-party client `qualysapi` (PyPI 8.1.0),
against `baseliner sim --tls`.

Usage: REQUESTS_CA_BUNDLE=CA.pem qualysapi_seed.py https://127.0.0.1:PORT [USER PASSWORD]

qualysapi is configured the way its users configure it: a config file with an [info]
section (hostname, username, password) passed to qualysapi.connect(). It only builds
https:// URLs; requests trusts the simulator's throwaway CA through REQUESTS_CA_BUNDLE.
Every step checks what came back; any failure exits non-zero with the reason.
"""

import ipaddress
import json
import os
import stat
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import qualysapi

SEED_RANGE = "64.39.106.0-64.39.106.3"
SEED_IPS = {f"64.39.106.{i}" for i in range(4)}
ORG = "organization_name"
OPTION_PROFILE = "New IPs option profile"
TEMPLATE_ID = "1"
SCAN_DEADLINE_S = 120
REPORT_DEADLINE_S = 60
LOOPBACK = {"127.0.0.1", "localhost"}


class Failed(Exception):
    """A step got something other than what the workflow needs."""


def check(cond, what):
    if not cond:
        raise Failed(what)


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


def launch_scan(conn):
    text, code, items = simple_return(
        conn.request(
            "api/2.0/fo/scan/",
            {
                "action": "launch",
                "scan_title": f"Baseline of {ORG}",
                "asset_groups": ORG,
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


def launch_report(conn, ref):
    text, code, items = simple_return(
        conn.request(
            "api/2.0/fo/report/",
            {
                "action": "launch",
                "template_id": TEMPLATE_ID,
                "report_type": "Scan",
                "output_format": "xml",
                "report_refs": ref,
                "report_title": f"Baseline of {ORG}",
            },
        ),
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


def fetch_raw(conn, ref):
    """The raw results' findings as {(ip, qid)}, with their severities checked."""
    text = conn.request(
        "api/2.0/fo/scan/", {"action": "fetch", "scan_ref": ref, "output_format": "json"}
    )
    try:
        records = json.loads(text)
    except ValueError as e:
        raise Failed(f"scan fetch: not JSON ({e}): {text[:300]!r}") from e
    check(isinstance(records, list), f"scan fetch: {type(records).__name__}, want a list")
    summary = [r for r in records if isinstance(r, dict) and "reference" in r]
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
    return found, severities


def run(url, user, password):
    with tempfile.TemporaryDirectory(prefix="qualysapi-seed-") as workdir:
        conn = connect(url, user, password, workdir)
        add_ips(conn)
        group_id = add_group(conn)
        ref = launch_scan(conn)
        scan = wait_scan(conn, ref)
        target = (scan.findtext("TARGET") or "").strip()
        check(target == SEED_RANGE, f"scan TARGET {target!r}, want {SEED_RANGE}")
        rid = launch_report(conn, ref)
        wait_report(conn, rid)
        in_report = fetch_report(conn, rid)
        in_raw, severities = fetch_raw(conn, ref)
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
