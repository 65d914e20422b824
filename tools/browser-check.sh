#!/usr/bin/env bash
# tools/browser-check.sh (make browser-check): render the demo's pictures in
# headless Chromium and fail when one is blank or clipped, and the report when
# it does not fit a desktop's or a phone's window.  Runs make demo first, so
# out/ holds the pictures of the bundled data; the screenshots go to out/png/.
cd "$(dirname "$0")/.."
. tools/common.sh
install_packages browser
tools/demo.sh > /dev/null
mkdir -p out/png
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
status=0
for file in out/elbow.svg out/clusters.svg out/profiles.svg out/silhouette.svg out/transitions.svg; do
	name=$(basename "$file")
	png="out/png/${name%.*}.png"
	# the window is the picture's size plus a margin, so nothing may touch its edges
	size=$(sed -n 's/^<svg[^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p' "$file" | head -n 1)
	size="$(( ${size%,*} + 40 )),$(( ${size#*,} + 40 ))"
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
		--window-size="$size" --screenshot="$png" "file://$PWD/$file" > /dev/null 2>&1
	if ! /usr/bin/python3 tools/check_picture.py "$png"; then
		status=1
	fi
done

# The report in a desktop window (1280 px) and a phone's (390 px): inside a
# frame of that width (Chromium's windows are at least 500 px wide), the page
# measures itself once loaded and reports to the frame's parent, whose page
# Chromium prints: the page may not be wider than the frame (no sideways
# scrolling of the page), at 1280 px no table may need to scroll in its box,
# and a table that scrolls must show the note that says so.  Screenshots of
# both go to out/png/report-1280.png and out/png/report-390.png.
measure='<script>window.addEventListener("load", function () {
	var page = document.documentElement, scrolling = 0, unsaid = 0;
	document.querySelectorAll("div.wide").forEach(function (box) {
		if (box.scrollWidth > box.clientWidth + 1) {
			scrolling++;
			var note = box.previousElementSibling;
			if (!note || note.className !== "scroll" || getComputedStyle(note).display === "none") unsaid++;
		}
	});
	parent.postMessage("page " + page.scrollWidth + " frame " + window.innerWidth + " scrolling " + scrolling +
		" unsaid " + unsaid, "*");
});</script>'
for width in 1280 390; do
	/usr/bin/python3 -c 'import sys; page = open(sys.argv[1]).read(); open(sys.argv[2], "w").write(page.replace("</body>", sys.argv[3] + "</body>"))' \
		out/report.html "$profile/report.html" "$measure"
	printf '%s' "<!DOCTYPE html><html><body style=\"margin:0\"><iframe src=\"report.html\" style=\"border:0;width:${width}px;height:9000px\"></iframe>
<script>window.addEventListener('message', function (e) { var p = document.createElement('pre'); p.id = 'measured';
p.textContent = e.data; document.body.appendChild(p); });</script></body></html>" > "$profile/frame.html"
	measured=$(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile/chromium" \
		--allow-file-access-from-files --window-size="$((width + 40)),9000" --virtual-time-budget=5000 \
		--dump-dom "file://$profile/frame.html" 2> /dev/null | sed -n 's/.*<pre id="measured">\([^<]*\)<\/pre>.*/\1/p')
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile/chromium" \
		--allow-file-access-from-files --window-size="$((width + 40)),9000" --virtual-time-budget=5000 \
		--screenshot="out/png/report-$width.png" "file://$profile/frame.html" > /dev/null 2>&1
	read -r _ page _ frame _ scrolling _ unsaid <<< "$measured"
	if [ -z "$measured" ]; then
		echo "report at $width px: the page did not measure itself"
		status=1
	elif [ "$page" -gt "$frame" ] || [ "$unsaid" -gt 0 ] || { [ "$width" -eq 1280 ] && [ "$scrolling" -gt 0 ]; }; then
		echo "report at $width px: page $page px wide in a frame of $frame px, $scrolling tables scroll in their box ($unsaid without the note)"
		status=1
	else
		echo "report at $width px: fits (page $page px in a frame of $frame px; $scrolling tables scroll in their box, each with the note), out/png/report-$width.png"
	fi
done
exit $status
