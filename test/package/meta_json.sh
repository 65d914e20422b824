#!/usr/bin/env bash
# test/package/meta_json.sh: META.json, which PGXN and packagers read, says
# what segment.control and the tree say: the release's version, the install
# script make builds for it, and no promise of later releases.  Run by
# tools/run-tests.sh; prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. test/tap.sh
echo "1..5"
control_version=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" segment.control)
fields=$(python3 -c '
import json
m = json.load(open("META.json"))
p = m["provides"]["segment"]
print(m["version"], p["version"], p["file"], p["docfile"])
print(m["abstract"] + " " + m["description"] + " " + p["abstract"])' 2>&1)
read -r version provided_version file docfile <<< "$(echo "$fields" | head -n 1)"
ok "$([ -n "$control_version" ] && [ "$version" = "$control_version.0" ] && [ "$provided_version" = "$version" ] && echo t)" \
	"META.json's version ($version, $provided_version) is segment.control's default_version ($control_version)"
ok "$([ "$file" = "install/segment--$control_version.sql" ] && grep -q "install/segment--\$(EXTVERSION).sql:" Makefile &&
	grep -q "^EXTVERSION = $control_version$" Makefile && echo t)" \
	"META.json's file ($file) is the install script make builds for that version"
ok "$([ -f "$docfile" ] && echo t)" "META.json's docfile ($docfile) exists"
ok "$(echo "$fields" | tail -n 1 | grep -qiv 'later release\|will \|planned' && echo t)" \
	"META.json describes what segment does, not what a later release may"
ok "$([ "$test_number" -eq 4 ] && echo t)" "every step ran"
exit 0
