#!/usr/bin/env bash
# Container health checks without curl or wget (the .NET runtime images ship neither), with bash alone.
#   probe.sh http PORT PATH   200 from http://127.0.0.1:PORT/PATH (the silo's and the Api's /healthz/live)
#   probe.sh connected        the process holds an established TCP connection (the worker's socket to its Api)
set -euo pipefail
case "${1:-}" in
  http)
    exec 3<>"/dev/tcp/127.0.0.1/$2"
    printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$3" >&3
    IFS= read -r -t 5 status <&3
    [[ "$status" == HTTP/1.?" 200"* ]]
    ;;
  connected)
    # Column 4 of /proc/net/tcp{,6} is the socket state; 01 is ESTABLISHED. A worker between reconnects has none.
    awk 'FNR > 1 && $4 == "01" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6
    ;;
  *)
    echo "usage: probe.sh http PORT PATH | probe.sh connected" >&2
    exit 2
    ;;
esac
