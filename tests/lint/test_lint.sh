#!/bin/sh
# test_lint.sh: build-aux/lint.sh against small trees made for it.
#
# A clean tree passes; each rule, given one violation, fails with the
# file:line of it and leaves the other rules passing; comments and string
# literals never count; LINT_ALLOW turns a failing rule into a pending one,
# and a listed rule that passes fails the run.  TAP on stdout.
set -u

: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
LINT=$TOP_SRCDIR/build-aux/lint.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ggufd-lint-test.XXXXXX") || {
	echo "Bail out! mktemp -d failed"
	exit 1
}
trap 'rm -rf "$WORK"' EXIT

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}

# A tree that keeps every rule.  No clang-format file: the format rule is
# advisory here (no .format-enforced) whatever the layout.
clean_tree() {
	rm -rf "$WORK/t"
	mkdir -p "$WORK/t/storage" "$WORK/t/server"
	cat >"$WORK/t/storage/blob.h" <<'EOF'
#ifndef BLOB_H
#define BLOB_H
int blob_open(const char *path);
#endif
EOF
	cat >"$WORK/t/storage/blob.c" <<'EOF'
/* blob.c: a comment that names sprintf(), strcpy(a, b) and atoi(s);
 * and a server header: #include "http.h" */
#include <stdio.h>
#include "blob.h"

static int helper(int x);

struct pair {
	int a, b;
};

static const char *msg = "do not sprintf(x) or gets(buf) here";

int
blob_open(const char *path)
{
	char c = '"';
	int r = helper(path[0]); // strtok(p, q) in a line comment
	(void)c;
	(void)msg;
	return r;
}

static int
helper(int x)
{
	return x;
}
EOF
	cat >"$WORK/t/server/http.h" <<'EOF'
int http_start(void);
EOF
	cat >"$WORK/t/server/resolve.h" <<'EOF'
int resolve_handle(void);
EOF
	cat >"$WORK/t/server/http.c" <<'EOF'
#include "config.h"
#include <microhttpd.h>
#include "http.h"
#include "route.h"
#include "log.h"

int
http_start(void)
{
	char b[8];
	return snprintf(NULL, 0, "%d", 1) + (fgets(b, 8, stdin) != NULL);
}
EOF
	cat >"$WORK/t/server/resolve.c" <<'EOF'
#include "resolve.h"
#include "store.h"

int
resolve_handle(void)
{
	return store_lookup();
}
EOF
	cat >"$WORK/t/server/routes.c" <<'EOF'
#include "resolve.h"
#include "http.h"
EOF
}

# lint [ENV...]: runs the script on the tree; output in $WORK/out, status in ST.
lint() {
	env "$@" sh "$LINT" "$WORK/t" >"$WORK/out" 2>&1
	ST=$?
}

# expect DESC STATUS PATTERN...: lint's status is STATUS and every
# PATTERN (grep -E) is in its output.
expect() {
	desc=$1 want=$2
	shift 2
	miss=
	for p in "$@"; do
		grep -Eq -- "$p" "$WORK/out" || miss="$miss [$p]"
	done
	if [ "$ST" = "$want" ] && [ -z "$miss" ]; then
		ok "$desc"
	else
		not_ok "$desc" "status $ST (want $want); missing:$miss" "$(cat "$WORK/out")"
	fi
}

echo "1..16"

clean_tree
lint LINT_ALLOW=
expect "a clean tree passes; comments and strings never count" 0 \
	'^lint: banned: ok$' '^lint: prototypes: ok$' '^lint: layer-storage: ok$' \
	'^lint: layer-server-index: ok$' '^lint: layer-http-includes: ok$' \
	'^lint: layer-handler-includes: ok$' '^lint: passed$'

clean_tree
printf 'static void\nf(char *d, const char *s)\n{\n\tstrcpy (d, s);\n}\n' >>"$WORK/t/storage/blob.c"
lint LINT_ALLOW=
expect "banned: strcpy in storage/ fails with its file:line" 1 \
	'^lint: banned: FAIL' 'storage/blob.c:32: strcpy\(\) is banned' '^lint: prototypes: ok$' \
	'^lint: failing rules: banned$'

clean_tree
printf 'static long\ng(const char *s)\n{\n\treturn atol(s) + strtoul(s, 0, 10);\n}\n' >>"$WORK/t/server/resolve.c"
lint LINT_ALLOW=
expect "banned: atol in server/ fails (snprintf, fgets and the like do not)" 1 \
	'server/resolve.c:12: atol\(\) is banned' '^lint: failing rules: banned$'

clean_tree
printf 'void blob_helper(int a,\n\t\t int b);\nint blob_x(void) __attribute__((pure));\n' >>"$WORK/t/storage/blob.c"
lint LINT_ALLOW=
expect "prototypes: non-static declarations in a .c, one line or two, are reported" 1 \
	'storage/blob.c:29: blob_helper\(\) is declared in a .c file' \
	'storage/blob.c:31: blob_x\(\) is declared in a .c file' '^lint: failing rules: prototypes$'

clean_tree
printf '#include "fetch.h"\n' >>"$WORK/t/storage/blob.c"
lint LINT_ALLOW=
expect "layer-storage: storage/ including a server/ header fails" 1 \
	'storage/blob.c:29: includes "fetch.h"' '^lint: failing rules: layer-storage$'

clean_tree
printf '#include "resolve.h"\n' >"$WORK/t/storage/idx.h"
lint LINT_ALLOW=
expect "layer-storage: a header that exists only in server/ counts too" 1 \
	'storage/idx.h:1: includes "resolve.h", a server/ header'

clean_tree
printf 'static int\nh(struct app *a)\n{\n\treturn a->idx != 0 || MDB_NOTFOUND;\n}\n' >>"$WORK/t/server/resolve.c"
lint LINT_ALLOW=
expect "layer-server-index: ->idx or MDB_ in server/ fails" 1 \
	'server/resolve.c:12: ->idx' '^lint: failing rules: layer-server-index$'

clean_tree
printf '#include "gateway.h"\n' >>"$WORK/t/server/http.c"
lint LINT_ALLOW=
expect "layer-http-includes: http.c including gateway.h fails" 1 \
	'server/http.c:13: includes "gateway.h"' '^lint: failing rules: layer-http-includes$'

clean_tree
printf '#include "gateway.h"\n' >>"$WORK/t/server/conns.c"
printf '#include "httpint.h"\n' >>"$WORK/t/server/resolve.c"
lint LINT_ALLOW=
expect "layer-http-includes: conns.c (split from http.c) is held to the same list, and only the core includes httpint.h" 1 \
	'server/conns.c:1: includes "gateway.h"' 'server/resolve.c:9: includes "httpint.h": only the HTTP core' \
	'^lint: failing rules: layer-http-includes$'

clean_tree
printf '#include "resolve.h"\n' >>"$WORK/t/server/http.c"
lint LINT_ALLOW=
expect "layer-handler-includes: a handler header outside routes.c fails (and in http.c, both rules)" 1 \
	'server/http.c:13: includes the handler header "resolve.h"' \
	'^lint: failing rules: layer-http-includes layer-handler-includes$'

clean_tree
printf 'static int\nk(struct req *r, const char *c)\n{\n\tif (strcmp(c, "EntryNotFound") == 0)\n\t\treturn 1;\n\treturn http_error(r, 404, "EntryNotFound", "x", 0);\n}\n' >>"$WORK/t/server/resolve.c"
lint LINT_ALLOW=
expect "hub-errors: a Hub error answered outside huberr.c fails (a strcmp with upstream's code does not)" 1 \
	'server/resolve.c:14: the Hub error "EntryNotFound"' '^lint: failing rules: hub-errors$'

clean_tree
printf '#include "gateway.h"\n' >>"$WORK/t/server/http.c"
lint LINT_ALLOW="layer-http-includes"
expect "LINT_ALLOW: a listed failing rule is pending and the run passes" 0 \
	'^lint: layer-http-includes: pending \(1 finding' '^lint: pending rules \(LINT_ALLOW\): layer-http-includes$'

clean_tree
lint LINT_ALLOW="prototypes"
expect "LINT_ALLOW: a listed rule that passes fails the run" 1 \
	'^lint: prototypes: ok, but it is listed in LINT_ALLOW'

clean_tree
lint LINT_ALLOW="no-such-rule"
expect "LINT_ALLOW: an unknown rule is a usage error" 2 "unknown rule 'no-such-rule'"

# The format rule needs the pinned clang-format.
if command -v "${CLANG_FORMAT:-clang-format-14}" >/dev/null 2>&1; then
	clean_tree
	cp "$TOP_SRCDIR/.clang-format" "$WORK/t/"
	printf 'int\nblob_y(void)\n{\n  return 1 ;\n}\n' >>"$WORK/t/storage/blob.c"
	lint LINT_ALLOW=
	expect "format: without .format-enforced, differences are reported but do not fail" 0 \
		'^lint: format: [0-9]+ file\(s\) differ \(advisory'
	touch "$WORK/t/.format-enforced"
	lint LINT_ALLOW=
	expect "format: with .format-enforced, a file clang-format would change fails" 1 \
		'^lint: format: FAIL' 'storage/blob.c:[0-9]+: [0-9]+ place\(s\) differ' '^lint: failing rules: format$'
else
	ok "format: advisory mode # SKIP ${CLANG_FORMAT:-clang-format-14} not installed"
	ok "format: enforced mode # SKIP ${CLANG_FORMAT:-clang-format-14} not installed"
fi

[ "$failed" -eq 0 ]
