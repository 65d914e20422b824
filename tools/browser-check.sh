#!/usr/bin/env bash
# tools/browser-check.sh (make browser-check): render the demo's pictures in
# headless Chromium and fail when one is blank or clipped.  Runs make demo
# first, so out/ holds the pictures of the bundled data; the screenshots go
# to out/png/.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages browser
tools/demo.sh > /dev/null
mkdir -p out/png
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
status=0
for file in out/elbow.svg out/clusters.svg out/profiles.svg out/silhouette.svg out/transitions.svg out/report.html; do
	name=$(basename "$file")
	png="out/png/${name%.*}.png"
	if [ "${file##*.}" = svg ]; then
		# the window is the picture's size plus a margin, so nothing may touch its edges
		size=$(sed -n 's/^<svg[^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p' "$file" | head -n 1)
		size="$(( ${size%,*} + 40 )),$(( ${size#*,} + 40 ))"
	else
		size="1100,4200"
	fi
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
		--window-size="$size" --screenshot="$png" "file://$PWD/$file" > /dev/null 2>&1
	if ! /usr/bin/python3 tools/check_picture.py "$png"; then
		status=1
	fi
done
exit $status
