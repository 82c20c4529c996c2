#!/usr/bin/env bash
# install.sh: make install into a DESTDIR puts the binary, the man page
# ggufd(1) and the systemd unit where configure said; the installed binary
# runs; the unit names it in ExecStart, runs as its own user with a state
# directory and hardening, and passes systemd-analyze verify; the man page
# renders without a groff warning; make uninstall takes it all back.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 6

D=$WORK/root
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP_BUILDDIR" "$@"; }
var() { mk print-install-dirs 2>/dev/null | sed -n "s|^$1=||p"; }
bindir=$(var bindir) mandir=$(var mandir) unitdir=$(var systemdsystemunitdir)
mk install DESTDIR="$D" >"$WORK/install.log" 2>&1
st=$?
result "make install DESTDIR=… puts ggufd, ggufd.1 and ggufd.service under $bindir, $mandir/man1, $unitdir" \
	"$([ "$st" = 0 ] && [ -n "$bindir" ] && [ -x "$D$bindir/ggufd" ] && [ -f "$D$mandir/man1/ggufd.1" ] &&
		[ -f "$D$unitdir/ggufd.service" ]; echo $?)" "make exit $st" "$(tail -c 1500 "$WORK/install.log")" \
	"$(cd "$D" 2>/dev/null && find . -type f | head -20)"
result "the installed binary runs (--version)" \
	"$("$D$bindir/ggufd" --version 2>&1 | grep -q '^ggufd [0-9]'; echo $?)" "$("$D$bindir/ggufd" --version 2>&1)"
U=$D$unitdir/ggufd.service
result "the unit starts the installed binary as its own user, with a state directory and hardening" \
	"$(grep -qx "ExecStart=$bindir/ggufd serve \$GGUFD_ARGS" "$U" && grep -qx 'DynamicUser=yes' "$U" &&
		grep -qx 'StateDirectory=ggufd' "$U" && grep -qx 'Environment=GGUFD_STORE=/var/lib/ggufd GGUFD_LISTEN=0.0.0.0:8080 GGUFD_ARGS=' "$U" &&
		grep -qx 'NoNewPrivileges=yes' "$U" && grep -qx 'ProtectSystem=strict' "$U" &&
		grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$U" && ! grep -q '@bindir@' "$U"; echo $?)" "$(cat "$U" 2>&1)"
if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart's binary at its path: the unit with the DESTDIR path.
	mkdir -p "$WORK/units"
	sed "s|^ExecStart=$bindir/|ExecStart=$D$bindir/|" "$U" >"$WORK/units/ggufd.service"
	# and its Documentation= (man:ggufd(1)) through man: the installed page.
	MANPATH=$D$mandir SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$WORK/units/ggufd.service" >"$WORK/verify.log" 2>&1
	st=$?
	result "systemd-analyze verify accepts the unit" \
		"$([ "$st" = 0 ] && ! grep -i 'ggufd.service' "$WORK/verify.log" | grep -qiv 'Documentation'; echo $?)" \
		"exit $st" "$(head -c 2000 "$WORK/verify.log")"
else
	not_ok "systemd-analyze verify accepts the unit" "systemd-analyze is not installed (apt-get install systemd; ./setup.sh test does)"
fi
if command -v groff >/dev/null; then
	groff -man -Tutf8 -ww -z "$D$mandir/man1/ggufd.1" >"$WORK/groff.log" 2>&1
	st=$?
	result "ggufd(1) renders without a groff warning and names every command" \
		"$([ "$st" = 0 ] && [ ! -s "$WORK/groff.log" ] &&
			for c in serve import pull ls token verify gc audit; do
				groff -man -Tascii -P-cbou "$D$mandir/man1/ggufd.1" 2>/dev/null | grep -qE "^       $c( |\$)" || exit 1
			done; echo $?)" "exit $st" "$(cat "$WORK/groff.log")"
else
	not_ok "ggufd(1) renders without a groff warning and names every command" "groff is not installed (apt-get install groff-base; ./setup.sh test does)"
fi
mk uninstall DESTDIR="$D" >"$WORK/uninstall.log" 2>&1
st=$?
result "make uninstall removes every file it installed" \
	"$([ "$st" = 0 ] && [ -z "$(find "$D" -type f)" ]; echo $?)" "exit $st" "$(find "$D" -type f)"
finish
