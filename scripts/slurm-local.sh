#!/usr/bin/env bash
# Starts a one-node Slurm on this machine for grao's cluster tests and
# local experiments: munged, slurmctld and slurmd as root, no cgroups, no
# accounting database. Installs Debian's slurm-wlm and munge when missing.
# Idempotent: a running cluster is left as it is. Prints the partition.
#
#   sudo scripts/slurm-local.sh            # start (or check) the cluster
#   sudo scripts/slurm-local.sh stop       # stop its daemons
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# running NAME: whether a process of that name runs (no procps needed).
running() { grep -qsx "$1" /proc/[0-9]*/comm; }
stop() {
  for d in slurmd slurmctld; do
    for c in /proc/[0-9]*/comm; do
      if [ "$(cat "$c" 2>/dev/null)" = "$d" ]; then
        p=${c#/proc/}; kill "${p%/comm}" 2>/dev/null || true
      fi
    done
  done
}

if [ "${1:-}" = stop ]; then
  stop
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-local: installing slurm-wlm munge"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if sinfo -h >/dev/null 2>&1 && [ "$(sinfo -h -o %T | head -1)" = idle ]; then
  sinfo -h -o '%P %D %T'
  exit 0
fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2/1024) - 512}' /proc/meminfo)
mkdir -p /etc/slurm /var/spool/slurmd /var/spool/slurmctld /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=grao
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MinJobAge=3600
DefMemPerCPU=2048
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
running munged || runuser -u munge -- /usr/sbin/munged
running slurmctld || slurmctld
running slurmd || slurmd

for _ in $(seq 1 60); do
  if [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ]; then
    sinfo -h -o '%P %D %T'
    exit 0
  fi
  sleep 1
done
echo "slurm-local: the node did not become idle; see /var/log/slurm/" >&2
sinfo -N -l >&2 || true
exit 1
