#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests of `quakelab sweep --launcher slurm`.
#
#   tools/slurm-single-node.sh [start]   install (Debian's slurm-wlm and munge) when missing, write
#                                        a slurm.conf for this machine's cores and memory, start
#                                        munged, slurmctld and slurmd, and wait until the node is
#                                        idle; does nothing when the cluster already answers
#   tools/slurm-single-node.sh stop      stop the daemons this script started
#   tools/slurm-single-node.sh status    exit 0 when the controller answers
#
# It runs as root on localhost (a CI machine or a container), keeps its state under
# $QUAKELAB_SLURM_DIR (default /var/lib/quakelab-slurm), and never touches a slurm.conf it did not
# write: an existing cluster's configuration is left alone and the script refuses to start.
set -euo pipefail

state=${QUAKELAB_SLURM_DIR:-/var/lib/quakelab-slurm}
conf=/etc/slurm/slurm.conf
marker="# written by quakelab tools/slurm-single-node.sh"

log() { echo "slurm-single-node: $*" >&2; }

answers() { scontrol ping 2>/dev/null | grep -q "is UP"; }

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && command -v sbatch >/dev/null; then
        return
    fi
    [ "$(id -u)" -eq 0 ] || { log "installing slurm-wlm and munge needs root"; exit 1; }
    log "installing slurm-wlm and munge (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }
}

write_conf() {
    if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
        log "$conf exists and was not written by this script: refusing to replace it"
        exit 1
    fi
    local host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    # Leave 512 MB to the daemons and the system.
    mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
    mkdir -p /etc/slurm "$state/ctld" "$state/d" "$state/log"
    cat >"$conf" <<CONF
$marker
ClusterName=quakelab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=3600
KillWait=10
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munge() {
    if pgrep -x munged >/dev/null; then
        return
    fi
    mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chmod 0400 /etc/munge/munge.key
    munged --force
    echo started >"$state/munged.started"
}

start() {
    if answers; then
        log "the controller already answers"
        return
    fi
    [ "$(id -u)" -eq 0 ] || { log "starting the daemons needs root"; exit 1; }
    install
    write_conf
    start_munge
    slurmctld
    slurmd
    for _ in $(seq 1 60); do
        if answers && sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            log "up: $(sinfo -h -o '%P %D %t %c cpus %m MB')"
            return
        fi
        sleep 1
    done
    log "the node did not become idle within 60 s; see $state/log/"
    exit 1
}

# Sends SIGTERM to the process in pid file $1 and waits up to 20 s for it to end.
end_process() {
    local pid_file=$1 pid
    [ -s "$pid_file" ] || return 0
    pid=$(cat "$pid_file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$pid_file"
}

stop() {
    end_process "$state/slurmd.pid"
    end_process "$state/slurmctld.pid"
    if [ -f "$state/munged.started" ]; then
        end_process /run/munge/munged.pid
        rm -f "$state/munged.started"
    fi
    log "stopped"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) answers ;;
    *) log "usage: $0 [start|stop|status]"; exit 2 ;;
esac
