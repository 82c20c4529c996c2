#!/usr/bin/env bash
# accesslog.sh: serve --access-log, one line per request, reopened on SIGHUP.
#
# A local registry holds one file.  Requests (a full GET, a range, a 404,
# a request with a query and a bearer token, one with the client's own
# X-Request-Id) each leave one line: method, the path without its query,
# status, bytes, source ("hit" from the store), a request id; no token and
# no query string ever reaches the file.  After the file is moved away and
# SIGHUP is sent, new lines go to a new file at the same path.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 7

printf '{"model_type": "qwen2"}\n' >"$WORK/config.json"
"$GGUFD" import --store "$WORK/store" ruv/ruvltra "$WORK/config.json" >"$WORK/import.out" 2>&1
LOG=$WORK/access.log
if ! start_ggufd "$WORK/store" --upstream none --access-log "$LOG"; then
	not_ok "ggufd started with --access-log"
	finish
	exit
fi
ok "ggufd started with --access-log"

R=$BASE/ruv/ruvltra/resolve/main/config.json
SIZE=$(file_size "$WORK/config.json")
gcurl -o /dev/null "$R"
gcurl -o /dev/null -r 0-3 "$R"
gcurl -o /dev/null "$BASE/ruv/ruvltra/resolve/main/nope.json"
gcurl -o /dev/null -H 'Authorization: Bearer hf_thisisasecrettoken0123456789abcdef0123' "$R?sig=secretsig"
gcurl -o /dev/null -H 'X-Request-Id: my-req.42' "$R"
# Lines are written when a request ends; wait (bounded) for the five.
for ((i = 0; i < 50; i++)); do
	[ "$(wc -l <"$LOG" 2>/dev/null || echo 0)" -ge 5 ] && break
	sleep 0.1
done
result "five requests, five lines" "$([ "$(wc -l <"$LOG")" = 5 ]; echo $?)" "$(cat "$LOG")"
line() { sed -n "${1}p" "$LOG"; }
result "a full GET: method, path, 200, its bytes, hit, a request id" \
	"$(line 1 | grep -qE "^[0-9T:-]+Z 127\.0\.0\.1 GET /ruv/ruvltra/resolve/main/config\.json 200 $SIZE [0-9.]+ hit ggufd-[0-9]+$"; echo $?)" \
	"$(line 1)"
result "a range is 206 with the range's 4 bytes; a miss in the index is 404 with no bytes" \
	"$(line 2 | grep -qE ' 206 4 [0-9.]+ hit ' && line 3 | grep -qE ' 404 - [0-9.]+ - '; echo $?)" \
	"$(line 2)" "$(line 3)"
result "no query string, no token in the log" \
	"$(! grep -q 'secret' "$LOG" && line 4 | grep -qE ' /ruv/ruvltra/resolve/main/config\.json 200 '; echo $?)" \
	"$(line 4)"
result "the client's X-Request-Id is the line's request id" \
	"$(line 5 | grep -qE ' my-req\.42$'; echo $?)" "$(line 5)"
mv "$LOG" "$LOG.1"
kill -HUP "$GGUFD_PID"
for ((i = 0; i < 50; i++)); do
	[ -f "$LOG" ] && break
	sleep 0.1
done
gcurl -o /dev/null "$R"
for ((i = 0; i < 50; i++)); do
	[ -s "$LOG" ] && break
	sleep 0.1
done
result "after SIGHUP the log is reopened: the new line is in a new file, the old file keeps its five" \
	"$([ "$(wc -l <"$LOG" 2>/dev/null)" = 1 ] && [ "$(wc -l <"$LOG.1")" = 5 ] &&
		kill -0 "$GGUFD_PID"; echo $?)" "$(cat "$LOG" 2>&1)"
stop_ggufd
finish
