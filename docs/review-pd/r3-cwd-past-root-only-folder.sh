#!/bin/sh
# R3: the launcher chdir()s, as root, into whatever cwd the server child names, then drops
# to the tenant: the tenant's process starts INSIDE a folder it could never reach (here
# under /root, mode 0700) and reads a file there by a relative name. Also: as nobody.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=pprv$$
useradd --no-create-home --shell /usr/sbin/nologin --user-group "$name"
secret=/root/rv-cwd-$$
mkdir -m 755 "$secret"; echo "behind /root (0700)" >"$secret/note.txt"; chmod 644 "$secret/note.txt"
req=$(mktemp /tmp/rv-req-XXXXXX)
trap 'userdel "$name" 2>/dev/null || true; rm -rf "$req" "$secret"' EXIT
uid=$(id -u "$name"); gid=$(id -g "$name")
ls -ld /root
su -s /bin/sh "$name" -c "cat $secret/note.txt" 2>&1 || true
cat >"$req" <<J
[{"pypages":"start","id":1,"python":"/bin/sh","args":["-c","sleep 0.5; id -un; cat note.txt"],"cwd":"$secret","env":{},"user":{"uid":$uid,"gid":$gid}},
 {"pypages":"start","id":2,"python":"/bin/sh","args":["-c","sleep 0.5; id"],"cwd":"/","env":{},"user":{"uid":65534,"gid":65534}}]
J
"$here/run-hostile.sh" "$req"
