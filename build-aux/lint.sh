#!/bin/sh
# lint.sh: the house rules (style and layers) that a grep can check.
#
#   build-aux/lint.sh [TOPDIR]          check (make lint)
#   build-aux/lint.sh --format [TOPDIR] reformat every file (make format)
#
# Each rule is checked and reported on its own, as "lint: RULE: ok" or
# "lint: RULE: FAIL" followed by its findings as file:line: message:
#
#   format                  clang-format (the pinned version 14, against the
#                           checked-in .clang-format) would change nothing in
#                           the .c/.h files of common/ storage/ server/ tests/
#                           web/.  Advisory (reported, never failing) until a
#                           file .format-enforced exists at the top: create it
#                           in the commit that runs `make format` over the tree.
#   banned                  none of sprintf vsprintf strcpy strcat atoi atol
#                           strtol strtoul sscanf gets strtok is called in
#                           common/ storage/ server/ (comments and string
#                           literals are ignored).
#   prototypes              no .c file in common/ storage/ server/ declares a
#                           non-static function at file scope: it belongs in
#                           the header of the module that defines it.
#   layer-storage           nothing in common/ or storage/ includes a header
#                           of server/ (the list below, and any header that
#                           exists only in server/).
#   layer-server-index      server/ never touches the index directly: no
#                           MDB_, index_txn_ or ->idx.
#   layer-http-includes     server/http.c (and httpbody.c, conns.c, split
#                           from it) includes only system headers and
#                           HTTP_ALLOWED below (no handler, no gateway);
#                           only they include httpint.h.
#   layer-handler-includes  only server/routes.c includes handler headers
#                           (HANDLER_HEADERS below); a handler may include its
#                           own header (resolve.c: resolve.h).
#   hub-errors              the Hub's error answers (HUB_CODES below) are
#                           made in server/huberr.c only; elsewhere a code
#                           may only be compared with upstream's (strcmp).
#
# Rules known not to pass yet are listed in LINT_ALLOW (environment, or
# `make lint LINT_ALLOW="rule ..."`): they are still checked, marked
# "pending" with a sample of their findings, and do not fail the run.  A listed rule that passes
# fails the run, so that the list is shortened as soon as it can be.
#
# Exit status: 0 if every rule passes or is pending, 1 otherwise, 2 on a
# usage error.  POSIX sh and awk only (besides clang-format-14).
set -u

# --- the lists the rules use ---------------------------------------------------

SRC_DIRS="common storage server"
FORMAT_DIRS="common storage server tests web"
BANNED="sprintf vsprintf strcpy strcat atoi atol strtol strtoul sscanf gets strtok"
# Headers of the HTTP layer, including those the refactor is adding.
SERVER_HEADERS="http.h route.h routes.h handlers.h gateway.h fetch.h upstream.h api.h
  resolve.h publish.h policy.h pull.h cli.h lfs.h upload.h uploadq.h huberr.h auth.h app.h
  gwint.h admin.h apimirror.h audit.h serve.h v2.h"
# What http.c may include besides <system headers>.
# fastlane.h: the fast lane (stored files answered without libmicrohttpd) is
# started, quiesced and stopped with the server.
# The HTTP core: http.c and what was split from it (the same rule).
HTTP_CORE="server/http.c server/httpbody.c server/conns.c"
HTTP_ALLOWED="config.h http.h httpint.h accesslog.h auth.h stats.h route.h log.h util.h gg_limits.h limits.h fastlane.h flentry.h"
# Headers of request handlers: only routes.c (the route table) includes them.
HANDLER_HEADERS="handlers.h resolve.h api.h lfs.h upload.h uploadq.h admin.h ui.h metrics.h v2.h"
RULES="format banned prototypes layer-storage layer-server-index layer-http-includes
  layer-handler-includes hub-errors"
# The Hub's error codes that only server/huberr.c answers with.
HUB_CODES="RepoNotFound RevisionNotFound EntryNotFound UpstreamUnavailable UpstreamError"
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
CLANG_FORMAT_MAJOR=14

mode=check
if [ "${1:-}" = "--format" ]; then
	mode=format
	shift
fi
case ${1:-} in
-*)
	echo "usage: lint.sh [--format] [TOPDIR]" >&2
	exit 2
	;;
esac
top=${1:-$(dirname "$0")/..}
cd "$top" || exit 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ggufd-lint.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# files EXT DIRS...: the files under DIRS (those that exist) named *.EXT,
# sorted, one per line; node_modules is not ours.
files() {
	ext=$1
	shift
	for d in "$@"; do
		[ -d "$d" ] || continue
		find "$d" -name node_modules -prune -o -type f -name "*.$ext" -print
	done | LC_ALL=C sort
}

# strip FILE...: each file's lines as FILE:LINE:TEXT with comments and the
# contents of string and character literals blanked out; line numbers are
# kept (a comment spanning lines leaves empty lines behind).
strip() {
	awk '
	FNR == 1 { incomment = 0 }
	{
		out = ""
		n = length($0)
		i = 1
		while (i <= n) {
			c = substr($0, i, 1)
			d = substr($0, i, 2)
			if (incomment) {
				if (d == "*/") { incomment = 0; i += 2; out = out " " }
				else i++
				continue
			}
			if (d == "/*") { incomment = 1; i += 2; continue }
			if (d == "//") break
			if (c == "\"" || c == "\047") {
				q = c
				out = out q
				i++
				while (i <= n) {
					c = substr($0, i, 1)
					if (c == "\\") { i += 2; continue }
					i++
					if (c == q) break
				}
				out = out q
				continue
			}
			out = out c
			i++
		}
		print FILENAME ":" FNR ":" out
	}' "$@"
}

# --- format ---------------------------------------------------------------------

format_files() {
	files c $FORMAT_DIRS >"$tmp/fmt.list"
	files h $FORMAT_DIRS >>"$tmp/fmt.list"
	LC_ALL=C sort -o "$tmp/fmt.list" "$tmp/fmt.list"
}

# have_clang_format: the pinned clang-format is there (else a message in
# $tmp/format.why).
have_clang_format() {
	if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
		echo "$CLANG_FORMAT not found (Debian: apt-get install clang-format-14)" >"$tmp/format.why"
		return 1
	fi
	v=$("$CLANG_FORMAT" --version 2>/dev/null)
	case $v in
	*"version $CLANG_FORMAT_MAJOR."*) return 0 ;;
	esac
	echo "$CLANG_FORMAT is not version $CLANG_FORMAT_MAJOR ($v): the pinned version decides the layout" \
		>"$tmp/format.why"
	return 1
}

if [ "$mode" = format ]; then
	have_clang_format || {
		cat "$tmp/format.why" >&2
		exit 1
	}
	format_files
	# shellcheck disable=SC2046
	[ -s "$tmp/fmt.list" ] && "$CLANG_FORMAT" -i --style=file $(cat "$tmp/fmt.list")
	exit $?
fi

# Each check writes its findings, file:line: message, to stdout; no output
# means the rule passes.  A check that cannot run says why on fd 3 and
# returns 2.

check_format() {
	if ! have_clang_format; then
		cat "$tmp/format.why" >&3
		return 2
	fi
	format_files
	while IFS= read -r f; do
		# --dry-run -Werror: one "file:line:col: error: code should be
		# clang-formatted" per difference; report the first of each file.
		"$CLANG_FORMAT" --style=file --dry-run -Werror "$f" >"$tmp/fmt.out" 2>&1 ||
			{
				n=$(grep -c 'code should be clang-formatted' "$tmp/fmt.out")
				l=$(sed -n 's/^[^:]*:\([0-9][0-9]*\):[0-9]*: error:.*/\1/p' "$tmp/fmt.out" | head -n1)
				echo "$f:${l:-1}: $n place(s) differ from $CLANG_FORMAT's layout (make format)"
			}
	done <"$tmp/fmt.list"
}

check_banned() {
	alt=$(echo $BANNED | tr ' ' '|')
	# shellcheck disable=SC2046
	set -- $(files c $SRC_DIRS) $(files h $SRC_DIRS)
	[ $# -gt 0 ] || return 0
	strip "$@" | awk -v re="(^|[^A-Za-z0-9_])($alt)[ \t]*\\\\(" '
	{
		file = $0; sub(/:.*/, "", file)
		rest = substr($0, length(file) + 2)
		line = rest; sub(/:.*/, "", line)
		text = substr(rest, length(line) + 2)
		if (match(text, re)) {
			fn = substr(text, RSTART, RLENGTH)
			sub(/^[^A-Za-z_]/, "", fn); sub(/[ \t]*\($/, "", fn)
			print file ":" line ": " fn "() is banned: use the bounded parsers, snprintf_checked or struct buf"
		}
	}'
}

check_prototypes() {
	# shellcheck disable=SC2046
	set -- $(files c $SRC_DIRS)
	[ $# -gt 0 ] || return 0
	# A statement at file scope (brace depth 0) that ends in ";" and reads
	# TYPE NAME(...) [__attribute__((...))] without static or typedef.
	strip "$@" | awk '
	function check(s) {
		gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s)
		if (s ~ /^(static|typedef)( |$)/ || s ~ /=/)
			return
		if (s ~ /^[A-Za-z_][A-Za-z0-9_ *]*[ *][A-Za-z_][A-Za-z0-9_]* ?\(.*\)( ?__attribute__ ?\(\(.*\)\))?$/) {
			name = s; sub(/ ?\(.*/, "", name); sub(/.*[ *]/, "", name)
			print file ":" start ": " name "() is declared in a .c file: declare it in its module'"'"'s header, or make it static"
		}
	}
	{
		f = $0; sub(/:.*/, "", f)
		rest = substr($0, length(f) + 2)
		ln = rest; sub(/:.*/, "", ln)
		text = substr(rest, length(ln) + 2)
		if (f != file) { file = f; depth = 0; stmt = ""; cont = 0 }
		if (cont || (depth == 0 && stmt ~ /^[ \t]*$/ && text ~ /^[ \t]*#/)) {
			cont = text ~ /\\$/
			next
		}
		n = length(text)
		for (i = 1; i <= n; i++) {
			c = substr(text, i, 1)
			if (depth > 0) {
				if (c == "{") depth++
				else if (c == "}") depth--
				continue
			}
			if (stmt ~ /^[ \t]*$/ && c !~ /[ \t]/)
				start = ln
			if (c == "{") { depth++; stmt = ""; continue }
			if (c == ";") { check(stmt); stmt = ""; continue }
			stmt = stmt c
		}
		stmt = stmt " "
	}'
}

# includes FILE...: FILE:LINE:HEADER for every #include "HEADER" (the
# basename); <system headers> are left out.
includes() {
	awk '
	/^[ \t]*#[ \t]*include[ \t]*"/ {
		h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
		n = split(h, p, "/")
		print FILENAME ":" FNR ":" p[n] ":" h
	}' "$@"
}

# in_list WORD LIST: is WORD one of the words of LIST?
in_list() {
	case " $(echo $2) " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

check_layer_storage() {
	# shellcheck disable=SC2046
	set -- $(files c common storage) $(files h common storage)
	[ $# -gt 0 ] || return 0
	# Headers of server/ that have no namesake in common/ or storage/.
	own=$(for f in $(files h common storage); do basename "$f"; done)
	srv=$SERVER_HEADERS
	for f in $(files h server); do
		b=$(basename "$f")
		in_list "$b" "$own" || srv="$srv $b"
	done
	includes "$@" | while IFS=: read -r f l b h; do
		case $h in
		server/* | */server/*)
			echo "$f:$l: includes \"$h\": storage/ and common/ never depend on server/"
			continue
			;;
		esac
		if in_list "$b" "$srv" && ! in_list "$b" "$own"; then
			echo "$f:$l: includes \"$h\", a server/ header: storage/ and common/ never depend on server/"
		fi
	done
}

check_layer_server_index() {
	# shellcheck disable=SC2046
	set -- $(files c server) $(files h server)
	[ $# -gt 0 ] || return 0
	strip "$@" | awk '
	{
		file = $0; sub(/:.*/, "", file)
		rest = substr($0, length(file) + 2)
		line = rest; sub(/:.*/, "", line)
		text = substr(rest, length(line) + 2)
		if (match(text, /(^|[^A-Za-z0-9_])(MDB_[A-Za-z0-9_]*|index_txn_[A-Za-z0-9_]*)|->[ \t]*idx([^A-Za-z0-9_]|$)/)) {
			what = substr(text, RSTART, RLENGTH)
			sub(/^[^A-Za-z_>-]/, "", what); sub(/[^A-Za-z0-9_]$/, "", what)
			print file ":" line ": " what ": server/ uses store_* functions, never the index or LMDB"
		}
	}'
}

check_layer_http_includes() {
	local core
	for core in $HTTP_CORE; do
		[ -f "$core" ] || continue
		includes "$core" | while IFS=: read -r f l b h; do
			in_list "$h" "$HTTP_ALLOWED" ||
				echo "$f:$l: includes \"$h\": http.c includes only <system headers> and $(echo $HTTP_ALLOWED)"
		done
	done
	# The core's insides are the core's alone.
	# shellcheck disable=SC2046
	set -- $(files c server) $(files h server)
	[ $# -gt 0 ] || return 0
	includes "$@" | while IFS=: read -r f l b h; do
		if [ "$b" = httpint.h ] && ! in_list "$f" "$HTTP_CORE"; then
			echo "$f:$l: includes \"httpint.h\": only the HTTP core ($(echo $HTTP_CORE)) does"
		fi
	done
}

check_layer_handler_includes() {
	# shellcheck disable=SC2046
	set -- $(files c server) $(files h server)
	[ $# -gt 0 ] || return 0
	includes "$@" | while IFS=: read -r f l b h; do
		in_list "$b" "$HANDLER_HEADERS" || continue
		[ "$f" = server/routes.c ] && continue
		me=$(basename "$f")
		[ "${me%.*}.h" = "$b" ] && continue
		echo "$f:$l: includes the handler header \"$h\": only server/routes.c does"
	done
}

check_hub_errors() {
	# shellcheck disable=SC2046
	set -- $(files c server)
	[ $# -gt 0 ] || return 0
	for code in $HUB_CODES; do
		grep -n "\"$code\"" "$@" /dev/null | grep -v '^server/huberr\.c:' | grep -v 'strcmp(' |
			while IFS=: read -r f l _; do
				echo "$f:$l: the Hub error \"$code\" is answered through huberr.c"
			done
	done
}

# --- run every rule --------------------------------------------------------------

allow=$(echo ${LINT_ALLOW:-})
for r in $allow; do
	in_list "$r" "$RULES" || {
		echo "lint: LINT_ALLOW names an unknown rule '$r' (rules: $(echo $RULES))" >&2
		exit 2
	}
done

failed=
pending=
xpass=
for rule in $RULES; do
	fn=check_$(echo "$rule" | tr '-' '_')
	"$fn" >"$tmp/out" 3>"$tmp/why"
	st=$?
	n=$(wc -l <"$tmp/out" | tr -d ' ')
	if [ "$rule" = format ] && [ ! -f .format-enforced ]; then
		if [ "$st" = 2 ]; then
			echo "lint: format: skipped (advisory until .format-enforced exists): $(cat "$tmp/why")"
		elif [ "$n" -gt 0 ]; then
			echo "lint: format: $n file(s) differ (advisory until .format-enforced exists; make format)"
		else
			echo "lint: format: ok (not enforced yet: .format-enforced does not exist)"
		fi
		continue
	fi
	if [ "$st" = 2 ]; then
		echo "lint: $rule: FAIL (cannot run: $(cat "$tmp/why"))"
		n=1
	elif [ "$n" -eq 0 ] && [ "$st" -ne 0 ]; then
		echo "lint: $rule: FAIL (the check itself failed, status $st)"
		n=1
	fi
	if [ "$n" -eq 0 ]; then
		if in_list "$rule" "$allow"; then
			echo "lint: $rule: ok, but it is listed in LINT_ALLOW: remove it from the list"
			xpass="$xpass $rule"
		else
			echo "lint: $rule: ok"
		fi
	elif in_list "$rule" "$allow"; then
		# Known findings: a sample, not pages of them on every run.
		echo "lint: $rule: pending ($n finding(s); allowed by LINT_ALLOW)"
		sed -n 's/^/  /; 1,3p' "$tmp/out"
		[ "$n" -gt 3 ] && echo "  ... $((n - 3)) more (make lint without LINT_ALLOW lists them all)"
		pending="$pending $rule"
	else
		[ -s "$tmp/out" ] && echo "lint: $rule: FAIL ($n finding(s))"
		sed 's/^/  /' "$tmp/out"
		failed="$failed $rule"
	fi
done

[ -n "$pending" ] && echo "lint: pending rules (LINT_ALLOW):$pending"
[ -n "$xpass" ] && echo "lint: rules that pass but are still listed in LINT_ALLOW:$xpass"
if [ -n "$failed" ] || [ -n "$xpass" ]; then
	[ -n "$failed" ] && echo "lint: failing rules:$failed"
	exit 1
fi
echo "lint: passed"
exit 0
