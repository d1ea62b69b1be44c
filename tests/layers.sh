#!/usr/bin/env bash
# tests/layers.sh - the policy layers depend downward only, and policy/
# knows nothing of libmilter.
#
# Each layer's library may use symbols of its own layer and of the layers
# below it (and of the system).  A symbol that a layer needs and a higher
# layer defines is a dependency the wrong way; any smfi_ symbol in a
# policy library is libmilter leaking into the checks.  Run from the
# build tree after make; prints one ok/FAIL line per layer.
set -u
top=${RG_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top/tests/lib.sh"
cd "$top"
# lowest first
layers="policy/lib/librglib.a policy/dns/librgdns.a policy/mail/librgmail.a
	policy/core/librgcore.a policy/checks/librgchecks.a policy/libpolicy.a"
defined() { nm --defined-only -g "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u; }
needed() { nm -u "$1" 2>/dev/null | awk 'NF >= 2 && $1 == "U" { print $2 }' | sort -u; }
set -- $layers
i=0
for lib in "$@"; do
	i=$((i + 1))
	name=layers/$(basename "$(dirname "$lib")")
	[ "$lib" = policy/libpolicy.a ] && name=layers/policy
	if [ ! -f "$lib" ]; then
		t_fail "$name" "$lib not built"
		continue
	fi
	above=$(j=0; for l in "$@"; do j=$((j + 1)); [ $j -gt $i ] && defined "$l"; done | sort -u)
	wrong=$(comm -12 <(needed "$lib") <(printf '%s\n' "$above" | sed '/^$/d'))
	smfi=$(nm "$lib" 2>/dev/null | awk '$NF ~ /^smfi_/ { print $NF }' | sort -u)
	if [ -n "$wrong" ]; then
		t_fail "$name" "$lib uses symbols of a higher layer: $(echo $wrong)"
	elif [ -n "$smfi" ]; then
		t_fail "$name" "$lib refers to libmilter: $(echo $smfi)"
	else
		t_pass "$name"
	fi
done
