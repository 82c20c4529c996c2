# bench/lib.sh: sourced by the benchmarks.
#
# update_readme NAME: with UPDATE_README=1, put bench/out/NAME.md into
# README.md between the markers <!-- bench:NAME --> and <!-- /bench:NAME -->.
update_readme() {
  [ "${UPDATE_README:-0}" = 1 ] || return 0
  grep -q "<!-- bench:$1 -->" README.md || { echo "README.md has no bench:$1 markers" >&2; return 1; }
  python3 - "$1" <<'PY'
import re, sys
n = sys.argv[1]
t = open("bench/out/%s.md" % n).read()
r = open("README.md").read()
r = re.sub(r"(<!-- bench:%s -->\n).*?(<!-- /bench:%s -->)" % (n, n), lambda m: m.group(1) + t + m.group(2), r, flags=re.S)
open("README.md", "w").write(r)
PY
  echo "README.md updated (bench:$1)" >&2
}
