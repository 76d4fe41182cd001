#!/bin/sh
# F6 (open): configRefusal checks the links of the config's path as given and the real
# path, not the links in between: root's link /etc/pypages.yaml -> /srv/w/l2 (a link in a
# folder www-data may write) -> a root-only file passes, and www-data can re-point l2 to
# a config of its own (allow-root-pages) before the next 'reread'. Prints the refusal
# (null = accepted). Run as root from the worktree after `npm run -s build`.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
b=$(mktemp -d /tmp/rv-cfg-XXXXXX); chmod 755 "$b"
trap 'rm -rf "$b"' EXIT
mkdir "$b/etc" "$b/w"; chmod 755 "$b/etc"; chown www-data "$b/w"
echo "port: 8080" >"$b/etc/real.yaml"
ln -s "$b/etc/real.yaml" "$b/w/l2"; chown -h www-data "$b/w/l2"
ln -s "$b/w/l2" "$b/etc/pypages.yaml"
cd "$repo"
node -e "import('./dist/lib/tenant/launch-policy.js').then((m) => {
  const why = m.configRefusal('$b/etc/pypages.yaml', '/');
  console.log(why === null ? 'VULNERABLE: accepted, through a link www-data can re-point' : 'refused (fixed): ' + why);
  process.exit(why === null ? 1 : 0);
})"
