# hactl status: asks the VRRP engine on the host (see probe.rs).
# shellcheck shell=sh
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin
kad=0
echo '@@hactl-status agent'
if [ -S /run/hactl-agent.sock ]; then
  if command -v hactl-agent >/dev/null 2>&1; then
    hactl-agent status --json 2>&1 || echo '@@error hactl-agent does not answer on /run/hactl-agent.sock'
  else
    echo '@@error /run/hactl-agent.sock exists but there is no hactl-agent command'
  fi
fi
echo '@@hactl-status keepalived'
pid=$(cat /run/keepalived.pid 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kad=1
  f=/tmp/keepalived.data
  rm -f "$f"
  kill -USR1 "$pid"
  n=0; last=-1
  while [ "$n" -lt 40 ]; do
    if [ -s "$f" ]; then
      size=$(wc -c <"$f")
      [ "$size" = "$last" ] && break
      last=$size
    fi
    sleep 0.05; n=$((n + 1))
  done
  cat "$f" 2>/dev/null || echo "@@error keepalived (pid $pid) wrote no $f on SIGUSR1"
fi
echo '@@hactl-status config'
if [ "$kad" = 0 ] && [ -r /etc/keepalived/keepalived.conf ]; then
  cat /etc/keepalived/keepalived.conf
fi
echo '@@hactl-status addr'
ip -o addr show
