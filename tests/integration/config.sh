#!/usr/bin/env bash
# config.sh: serve's configuration: flags > GGUFD_* environment > config
# file > defaults, ggufd config, errors, SIGHUP reload, unknown options.
#
# Covers: the same key set in a file, the environment and a flag, as
# `ggufd config` reports it (value and source) and where a running server
# really listens (127.0.0.1, .2 and .3 are all loopback); repeatable
# options taken whole from one source; GGUFD_CONFIG; `ggufd config` output
# read back as a config file; the upstream token never shown (nor in the
# server's log, nor in the error about a token written into the file);
# errors for an unknown key, a bad value, a missing file and a bad GGUFD_*
# value (FILE:LINE and the key, exit 2, one line); SIGHUP: log-level
# changed (a debug line appears), the upload allow list changed (a
# preupload refused, then accepted), a restart-only key named, a broken
# file logged and the server still serving; tokens added and revoked
# while the server runs are live at once (they are read from the index on
# every request); the unknown-option message of every command.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
# No setting of the caller's may leak in.
for v in $(env | sed -n 's/^\(GGUFD_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY

plan 49

S=$WORK/store
F=$WORK/ggufd.conf
SECRET=hf_cfgtestQ7ZX4secretVALUE91

run() {
	local name=$1
	shift
	timeout 60 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
	echo $? >"$WORK/$name.rc"
}
rc() { cat "$WORK/$1.rc"; }
show() {
	printf 'exit %s\n--- stdout\n%s\n--- stderr\n%s\n' "$(rc "$1")" \
		"$(head -c 2500 "$WORK/$1.out")" "$(head -c 1500 "$WORK/$1.err")"
}
# has NAME LINE: stdout of NAME has exactly the line LINE.
has() { grep -qxF -- "$2" "$WORK/$1.out"; }

# usage_error NAME DESC PATTERN: exit 2, one stderr line "ggufd: ..." that
# matches the grep -E PATTERN.
usage_error() {
	local n
	n=$(wc -l <"$WORK/$1.err")
	if [ "$(rc "$1")" = 2 ] && [ "$n" -eq 1 ] && grep -qE -- "^ggufd: .*$3" "$WORK/$1.err"; then
		ok "$2"
	else
		not_ok "$2" "want exit 2 and one stderr line matching 'ggufd: .*$3'" "$(show "$1")"
	fi
}

# serve_at NAME [ENV=V...] -- ARGS...: starts serve with the environment
# and arguments given, waits (bounded) for its "listening on" line and
# sets ADDR (host:port) from it.  The daemon becomes GGUFD_PID, so the
# lib's stop_ggufd and cleanup stop it.
ADDR=
serve_at() {
	local name=$1 i line envs=()
	shift
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	stop_ggufd
	GGUFD_LOG=$WORK/$name.log
	env "${envs[@]}" "$GGUFD" serve --store "$S" --upstream none "$@" \
		</dev/null >"$GGUFD_LOG.out" 2>"$GGUFD_LOG" &
	GGUFD_PID=$!
	ADDR=
	for ((i = 0; i < GG_START_POLLS; i++)); do
		line=$(grep -m1 -o 'listening on http://[0-9.]*:[0-9]*' "$GGUFD_LOG" 2>/dev/null)
		if [ -n "$line" ]; then
			ADDR=${line#listening on http://}
			return 0
		fi
		kill -0 "$GGUFD_PID" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	diag "serve did not report 'listening on'; its stderr:" "$(head -c 3000 "$GGUFD_LOG")"
	stop_ggufd
	return 1
}

# log_mark remembers how long the daemon's log is; log_since prints what
# came after; wait_log PATTERN waits (a bounded number of polls) for a line
# past the mark matching grep -E PATTERN.
MARK=0
log_mark() { MARK=$(wc -l <"$GGUFD_LOG"); }
log_since() { tail -n +$((MARK + 1)) "$GGUFD_LOG"; }
wait_log() {
	local i
	for ((i = 0; i < GG_START_POLLS; i++)); do
		log_since | grep -qE -- "$1" && return 0
		sleep "$GG_POLL"
	done
	return 1
}

# --- precedence, as ggufd config reports it ---------------------------------

cat >"$F" <<'EOF'
# a test config
listen = 127.0.0.3:0   # the file's address
upload-repo = file/one
upload-repo = file/two

offline = yes
EOF

run all env GGUFD_LISTEN=127.0.0.2:0 "$GGUFD" config --config "$F" --listen 127.0.0.1:0
result "flag, env and file set listen: config shows the flag's value, source flag" \
	"$([ "$(rc all)" = 0 ] && has all 'listen = 127.0.0.1:0  # flag'; echo $?)" "$(show all)"
run envfile env GGUFD_LISTEN=127.0.0.2:0 "$GGUFD" config --config "$F"
result "env and file set listen: config shows the env's value, source env GGUFD_LISTEN" \
	"$(has envfile 'listen = 127.0.0.2:0  # env GGUFD_LISTEN'; echo $?)" "$(show envfile)"
run file "$GGUFD" config --config "$F"
result "only the file sets listen: config shows the file's value, source FILE:LINE" \
	"$(has file "listen = 127.0.0.3:0  # $F:2"; echo $?)" "$(show file)"
run none "$GGUFD" config
result "nothing sets listen: config shows the default 0.0.0.0:8080, source default" \
	"$(has none 'listen = 0.0.0.0:8080  # default' && has none 'offline = false  # default'; echo $?)" \
	"$(show none)"
run viaenv env GGUFD_CONFIG="$F" "$GGUFD" config
result "GGUFD_CONFIG names the file as --config does" \
	"$(has viaenv "listen = 127.0.0.3:0  # $F:2" && has viaenv "offline = true  # $F:6"; echo $?)" \
	"$(show viaenv)"

result "a repeatable key from the file: every line, each with its line" \
	"$(has file "upload-repo = file/one  # $F:3" && has file "upload-repo = file/two  # $F:4" &&
		[ "$(grep -c '^upload-repo' "$WORK/file.out")" = 2 ]; echo $?)" "$(show file)"
run listenv env GGUFD_UPLOAD_REPO='env/one, env/two' "$GGUFD" config --config "$F"
result "a repeatable key set by env and file: the env's items only (the highest source wins whole)" \
	"$(has listenv 'upload-repo = env/one  # env GGUFD_UPLOAD_REPO' &&
		has listenv 'upload-repo = env/two  # env GGUFD_UPLOAD_REPO' &&
		[ "$(grep -c '^upload-repo' "$WORK/listenv.out")" = 2 ]; echo $?)" "$(show listenv)"
run listflag env GGUFD_UPLOAD_REPO=env/one "$GGUFD" config --config "$F" \
	--upload-repo flag/one --upload-repo flag/two
result "a repeatable key given twice as a flag: both flag items, nothing of env or file" \
	"$(has listflag 'upload-repo = flag/one  # flag' && has listflag 'upload-repo = flag/two  # flag' &&
		[ "$(grep -c '^upload-repo' "$WORK/listflag.out")" = 2 ]; echo $?)" "$(show listflag)"
run boolflag "$GGUFD" config --config "$F" --offline=no
result "a boolean: --offline=no beats the file's 'offline = yes'" \
	"$(has boolflag 'offline = false  # flag'; echo $?)" "$(show boolflag)"
run boolenv env GGUFD_OFFLINE=1 GGUFD_REF_TTL=7 "$GGUFD" config
result "GGUFD_OFFLINE=1 and GGUFD_REF_TTL=7: a variable for every option" \
	"$(has boolenv 'offline = true  # env GGUFD_OFFLINE' && has boolenv 'ref-ttl = 7  # env GGUFD_REF_TTL'; echo $?)" \
	"$(show boolenv)"

# ggufd config's output is a config file: read back, the same values.
cp "$WORK/listflag.out" "$WORK/again.conf"
run again "$GGUFD" config --config "$WORK/again.conf"
result "ggufd config's output read back as a config file gives the same values" \
	"$([ "$(rc again)" = 0 ] &&
		diff <(grep -v '^#' "$WORK/listflag.out" | sed 's/  #.*//') \
			<(grep -v '^#' "$WORK/again.out" | sed 's/  #.*//') >/dev/null &&
		has again "upload-repo = flag/two  # $WORK/again.conf:$(grep -n '^upload-repo = flag/two' "$WORK/again.conf" | cut -d: -f1)"
	echo $?)" "$(show again)"

# --- a running server listens where the winning source says -------------------

if serve_at srv_flag GGUFD_LISTEN=127.0.0.2:0 -- --config "$F" --listen 127.0.0.1:0; then
	code=$(gcurl -o /dev/null -w '%{http_code}' "http://$ADDR/")
	result "serve with flag, env and file: listens on the flag's 127.0.0.1 and answers" \
		"$([[ $ADDR == 127.0.0.1:* ]] && [ "$code" = 200 ]; echo $?)" "addr $ADDR, GET / $code"
else
	not_ok "serve with flag, env and file: listens on the flag's 127.0.0.1 and answers"
fi
if serve_at srv_env GGUFD_LISTEN=127.0.0.2:0 -- --config "$F"; then
	code=$(gcurl -o /dev/null -w '%{http_code}' "http://$ADDR/")
	result "serve with env and file: listens on the env's 127.0.0.2 and answers" \
		"$([[ $ADDR == 127.0.0.2:* ]] && [ "$code" = 200 ]; echo $?)" "addr $ADDR, GET / $code"
else
	not_ok "serve with env and file: listens on the env's 127.0.0.2 and answers"
fi
if serve_at srv_file -- --config "$F"; then
	code=$(gcurl -o /dev/null -w '%{http_code}' "http://$ADDR/")
	result "serve with the file alone: listens on the file's 127.0.0.3 and answers" \
		"$([[ $ADDR == 127.0.0.3:* ]] && [ "$code" = 200 ]; echo $?)" "addr $ADDR, GET / $code"
else
	not_ok "serve with the file alone: listens on the file's 127.0.0.3 and answers"
fi
stop_ggufd

# --- the upstream token is never shown -------------------------------------------

run tok env HF_TOKEN="$SECRET" "$GGUFD" config
result "config says the upstream token is set and by HF_TOKEN, without its value" \
	"$(grep -q '^# upstream token: set (env HF_TOKEN' "$WORK/tok.out" &&
		! grep -qF -e "$SECRET" -e "${SECRET:0:10}" -e "${SECRET: -8}" "$WORK/tok.out" "$WORK/tok.err"; echo $?)" \
	"$(show tok)"
run tok2 env HUGGINGFACE_API_KEY="$SECRET" "$GGUFD" config
result "config names HUGGINGFACE_API_KEY when only it is set, without its value" \
	"$(grep -q '^# upstream token: set (env HUGGINGFACE_API_KEY' "$WORK/tok2.out" &&
		! grep -qF -e "$SECRET" -e "${SECRET:0:10}" "$WORK/tok2.out"; echo $?)" "$(show tok2)"
run tok3 "$GGUFD" config
result "config says the upstream token is not set" \
	"$(grep -q '^# upstream token: not set' "$WORK/tok3.out"; echo $?)" "$(show tok3)"
printf 'listen = 127.0.0.1:0\nHF_TOKEN = %s\n' "$SECRET" >"$WORK/tokfile.conf"
run tokfile "$GGUFD" config --config "$WORK/tokfile.conf"
usage_error tokfile "a token written into the config file: unknown key HF_TOKEN at FILE:2" \
	"tokfile\.conf:2: unknown key 'HF_TOKEN'"
result "... and the error does not repeat the token" \
	"$(! grep -qF -e "$SECRET" -e "${SECRET:0:10}" "$WORK/tokfile.err" "$WORK/tokfile.out"; echo $?)" \
	"$(show tokfile)"

# The server's log at debug level, with an upstream that cannot be
# reached (a miss asks it, with the token): the token never appears.
if serve_at srv_tok HF_TOKEN="$SECRET" -- --listen 127.0.0.1:0 --log-level debug \
	--upstream http://127.0.0.1:9 --access-log "$WORK/access.log"; then
	gcurl -o /dev/null "http://$ADDR/ruv/ruvltra/resolve/main/x.gguf"
	gcurl -o /dev/null "http://$ADDR/api/models/ruv/ruvltra"
	stop_ggufd
	result "the server's log and access log never hold the upstream token (debug level)" \
		"$(! grep -qF -e "$SECRET" -e "${SECRET:0:10}" -e "${SECRET: -8}" "$WORK/srv_tok.log" \
			"$WORK/srv_tok.log.out" "$WORK/access.log" && grep -q 'debug' "$WORK/srv_tok.log"; echo $?)" \
		"$(head -c 2000 "$WORK/srv_tok.log")"
else
	not_ok "the server's log and access log never hold the upstream token (debug level)"
fi

# --- errors ----------------------------------------------------------------------------

printf 'listen = 127.0.0.1:0\n\n# fine so far\nno-such-key = 1\n' >"$WORK/unknown.conf"
for cmd in config serve; do
	run "unk_$cmd" "$GGUFD" "$cmd" --config "$WORK/unknown.conf"
	usage_error "unk_$cmd" "$cmd: an unknown key is FILE:LINE: unknown key 'no-such-key', exit 2" \
		"unknown\.conf:4: unknown key 'no-such-key'"
done
printf 'threads = 8\nthreads = 0\n' >"$WORK/dup.conf"
run dup "$GGUFD" config --config "$WORK/dup.conf"
usage_error dup "a key given twice in the file: FILE:2 names it" "dup\.conf:2: 'threads' is already set at line 1"
printf '# x\nthreads = many\n' >"$WORK/bad.conf"
run bad_config "$GGUFD" config --config "$WORK/bad.conf"
usage_error bad_config "a bad value: FILE:LINE: threads takes 1 to 256, not 'many'" \
	"bad\.conf:2: threads takes 1 to 256, not 'many'"
printf 'listen = 127.0.0.1:0\nlog-level = loud\n' >"$WORK/bad2.conf"
run bad_serve "$GGUFD" serve --store "$S" --upstream none --config "$WORK/bad2.conf"
usage_error bad_serve "serve with a bad log-level in the file: FILE:2 and the key, exit 2, never starts" \
	"bad2\.conf:2: log-level is error, warn, info or debug, not 'loud'"
run missing "$GGUFD" serve --store "$S" --config "$WORK/nope.conf"
usage_error missing "serve with a missing config file: names it and why, exit 2" \
	"cannot read the config file '.*nope\.conf' \(--config\): No such file"
run missing_env env GGUFD_CONFIG="$WORK/nope.conf" "$GGUFD" config
usage_error missing_env "GGUFD_CONFIG naming a missing file: names it and GGUFD_CONFIG, exit 2" \
	"nope\.conf' \(GGUFD_CONFIG\)"
run badenv env GGUFD_MAX_TRANSFERS=0 "$GGUFD" serve --store "$S"
usage_error badenv "a bad GGUFD_* value: names the variable, exit 2" \
	"GGUFD_MAX_TRANSFERS takes 1 to 1024, not '0'"
run badflag "$GGUFD" serve --store "$S" --ref-ttl soon
usage_error badflag "a bad flag value keeps its message: --ref-ttl takes seconds" \
	"--ref-ttl takes seconds, not 'soon'"

# --- SIGHUP ------------------------------------------------------------------------

# The allow list is checked before upstream is asked; upstream is a closed
# port, so an allowed repo gets past the list (and fails later, or not).
printf 'listen = 127.0.0.1:0\nlog-level = info\nupload-repo = ruv/ruvltra\n' >"$F"
if serve_at hup -- --config "$F" --upstream http://127.0.0.1:9; then
	HUPOK=1
else
	HUPOK=0
fi
TOK=$("$GGUFD" token add live --scope upload --store "$S" 2>"$WORK/tokadd.err")
code=$(gcurl -o "$WORK/who.json" -w '%{http_code}' -H "Authorization: Bearer $TOK" "http://$ADDR/api/whoami-v2")
result "a token added while the server runs works at once (whoami 200, its name)" \
	"$([ "$code" = 200 ] && grep -q '"name":"live"' "$WORK/who.json"; echo $?)" \
	"whoami $code: $(head -c 300 "$WORK/who.json"); token add: $(cat "$WORK/tokadd.err")"

# preupload CODE_FILE: the status and X-Error-Code of a preupload to ruv/other.
preupload() {
	gcurl -D "$WORK/pre.h" -o "$WORK/pre.json" -H "Authorization: Bearer $TOK" \
		-H 'Content-Type: application/json' \
		--data '{"files":[{"path":"README.md","size":10,"sample":""}]}' \
		"http://$ADDR/api/models/ruv/other/preupload/main"
	echo "$(http_status "$WORK/pre.h") $(header X-Error-Code "$WORK/pre.h")"
}
before=$(preupload)
gcurl -o /dev/null "http://$ADDR/api/ggufd/before-hup"
log_mark
printf 'listen = 127.0.0.1:0\nlog-level = debug\nthreads = 2\nupload-repo = ruv/ruvltra\nupload-repo = ruv/other\n' >"$F"
kill -HUP "$GGUFD_PID"
wait_log 'SIGHUP: .*re-read .*ggufd\.conf: .*changed'
result "SIGHUP re-reads the file and logs one line naming what changed (upload-repo, log-level)" \
	"$(log_since | grep -E 'SIGHUP: .*re-read' | grep -q 'upload-repo, log-level changed'; echo $?)" \
	"$(log_since | head -c 2000)"
result "SIGHUP: a key that needs a restart (threads) is named so" \
	"$(log_since | grep -q 'threads changed in .*ggufd\.conf: needs a restart'; echo $?)" "$(log_since | head -c 2000)"
gcurl -o /dev/null "http://$ADDR/api/ggufd/after-hup"
wait_log 'debug GET /api/ggufd/after-hup'
result "after SIGHUP to log-level = debug, a debug line is logged (and none before)" \
	"$(grep -q 'debug GET /api/ggufd/after-hup -> 404' "$GGUFD_LOG" &&
		! grep -q 'before-hup' "$GGUFD_LOG"; echo $?)" "$(head -c 2500 "$GGUFD_LOG")"
after=$(preupload)
result "SIGHUP swaps the upload allow list: ruv/other refused before (403 RepoNotAllowed), past the list after" \
	"$([ "$before" = "403 RepoNotAllowed" ] && [[ $after != *RepoNotAllowed* ]]; echo $?)" \
	"before: $before; after: $after $(head -c 300 "$WORK/pre.json")"

log_mark
printf 'listen = 127.0.0.1:0\nlog-level = error\nthis is not a config line\n' >"$F"
kill -HUP "$GGUFD_PID"
wait_log 'keeping the running configuration'
result "SIGHUP with a broken file: logged with FILE:LINE, the running configuration kept" \
	"$(log_since | grep -q 'ggufd\.conf:3: expected .key = value.: keeping the running configuration'; echo $?)" \
	"$(log_since | head -c 2000)"
code=$(gcurl -o /dev/null -w '%{http_code}' "http://$ADDR/api/ggufd/after-bad")
wait_log 'debug GET /api/ggufd/after-bad'
result "... the server is still up and serving, still at log-level debug" \
	"$(kill -0 "$GGUFD_PID" && [ "$code" = 404 ] &&
		[ "$(gcurl -o /dev/null -w '%{http_code}' "http://$ADDR/")" = 200 ] &&
		log_since | grep -q 'debug GET /api/ggufd/after-bad -> 404'; echo $?)" \
	"GET /api/ggufd/after-bad answered $code; $(log_since | head -c 2000)"

"$GGUFD" token revoke live --store "$S" >/dev/null 2>&1
code=$(gcurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" "http://$ADDR/api/whoami-v2")
result "a token revoked while the server runs is refused at once (401), no SIGHUP needed" \
	"$([ "$code" = 401 ]; echo $?)" "whoami $code"
stop_ggufd
result "serve stops cleanly after the reloads (exit 0)" \
	"$([ "$HUPOK" = 1 ] && [ "$GGUFD_STATUS" = 0 ]; echo $?)" "status $GGUFD_STATUS"

# --- unknown options are named as unknown ----------------------------------------------

for cmd in serve config import pull ls token verify gc audit; do
	run "unkopt_$cmd" "$GGUFD" "$cmd" --no-such-option 1
	usage_error "unkopt_$cmd" "$cmd --no-such-option 1: \"unknown option '--no-such-option'\"" \
		"$cmd: unknown option '--no-such-option'"
done
run noval "$GGUFD" serve --listen
usage_error noval "serve --listen (no value): \"option '--listen' needs a value\"" \
	"option '--listen' needs a value"
# S3 credentials come from AWS_* only: an endpoint URL is logged and shown.
run s3user "$GGUFD" serve --store "$WORK/s3user" --blob-store s3://bucket1 \
	--s3-endpoint http://ak:sk@127.0.0.1:9
usage_error s3user "an --s3-endpoint with user info is refused (credentials: AWS_* variables)" \
	"--s3-endpoint wants .*without user info"

finish
