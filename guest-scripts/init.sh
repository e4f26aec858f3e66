#!/bin/sh
# The guest's PID 1 (installed as /sbin/cxl-init): no systemd, just what the harness needs.
# Mounts the kernel filesystems, loads the CXL/dax/kmem modules, sets the network up
# statically for QEMU user networking and starts sshd. Everything it says goes to the
# serial console, which the harness keeps as console.log.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "cxl-harness: $*" > /dev/console; }

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# What udev or systemd would make: bash's process substitution <(...) opens /dev/fd/N.
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin; ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
hostname cxl-guest
say "init started on $(uname -r)"

# The harness's own code (agent, probes, repro loop) is a disk of its own, read-only.
mount -o ro LABEL=cxlh-payload /opt/cxl-harness || say "the harness payload disk (LABEL=cxlh-payload) did not mount"
# The agent starts now, while the drivers load and sshd starts: its own start-up (Node, the
# probe library, a warm probe child) takes about 4 s under TCG. The host takes it over this
# socket (AGENT_SOCKET in src/guest/agent.ts) and follows its log (AGENT_LOG); the pid file is
# written before Node starts.
A=/run/cxlh-agent.sock
HOME=/root sh -c 'echo $$ > "$0.pid"; exec node /opt/cxl-harness/dist/agent/main.js --listen "$0"' $A \
  </dev/null >/run/cxlh-agent.log 2>&1 &

# The drivers the harness uses, each with the sysfs directory that proves the kernel has it
# (module name first: a driver's name can differ from its module's).
CXL_DRIVERS="cxl_acpi:/sys/bus/platform/drivers/cxl_acpi
cxl_pci:/sys/bus/pci/drivers/cxl_pci cxl_mem:/sys/bus/cxl/drivers/cxl_mem cxl_port:/sys/bus/cxl/drivers/cxl_port
dax_cxl:/sys/bus/cxl/drivers/cxl_dax_region device_dax:/sys/bus/dax/drivers/device_dax kmem:/sys/bus/dax/drivers/kmem
cxl_pmem:/sys/bus/cxl/drivers/cxl_nvdimm_bridge dax_pmem:/sys/bus/nd/drivers/dax_pmem"
# cxlh.nocxl (a machine without CXL hardware, for cxl_test): no CXL or dax driver at boot; the
# tests load cxl_test's mock ones themselves, and a real one loaded first would stay in their way.
case " $(cat /proc/cmdline) " in
  *" cxlh.nocxl "*) CXL_DRIVERS="" ;;
esac
DRIVERS="virtio_net:/sys/bus/virtio/drivers/virtio_net $CXL_DRIVERS zram:/sys/class/zram-control"
# The network's driver now (sshd needs it); the others load while the network and sshd come
# up. The host's first command (the CXL preflight, src/machine/boot.ts) waits for DRIVERS_DONE.
modprobe -q virtio_net 2>/dev/null
DRIVERS_DONE=/run/cxlh-drivers-loaded
(
  MODDIR=/lib/modules/$(uname -r)
  # A kernel with everything built in and no modules tree (a bzImage alone): ndctl's daxctl and
  # cxl ask libkmod for device_dax, kmem, cxl_*, and libkmod knows a built-in module only from
  # modules.builtin(.bin). Derive that file from what this kernel shows in sysfs: every driver
  # and module it registered, plus the harness's drivers under their module names.
  if [ ! -e "$MODDIR/modules.dep" ]; then
    mkdir -p "$MODDIR"
    {
      for d in /sys/bus/*/drivers/* /sys/module/*; do echo "kernel/builtin/${d##*/}.ko"; done
      for e in $DRIVERS; do [ -d "${e#*:}" ] && echo "kernel/builtin/${e%%:*}.ko"; done
    } | sort -u > "$MODDIR/modules.builtin"
    depmod -a "$(uname -r)" 2>/dev/null || say "depmod failed: built-in drivers stay unknown to libkmod"
    say "no modules tree: modules.builtin derived from sysfs ($(wc -l < "$MODDIR/modules.builtin") entries)"
  fi
  # One modprobe for all of them (a process start costs under TCG); then each is checked.
  modprobe -q -a $(for e in $DRIVERS; do echo "${e%%:*}"; done) 2>/dev/null
  for e in $DRIVERS; do
    m=${e%%:*} dir=${e#*:}
    [ -d "$dir" ] || say "module $m not available: neither built in nor loadable ($dir absent)"
  done
  : > "$DRIVERS_DONE"
) &

ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

mkdir -p /run/sshd /var/log
/usr/sbin/sshd -E /var/log/sshd.log || say "sshd failed to start"
say "guest ready"

# PID 1 must never exit; reap what gets reparented to us.
while :; do
  sleep 3600 &
  wait
done
