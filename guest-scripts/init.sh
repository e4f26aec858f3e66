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
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
hostname cxl-guest
say "init started on $(uname -r)"

# Modules may be built in (a source build) or missing (a kernel without CXL): say which.
for m in virtio_net cxl_acpi cxl_pci cxl_mem cxl_port dax_cxl device_dax kmem zram; do
  if ! modprobe -q "$m" 2>/dev/null && ! grep -qs "/$m.ko" "/lib/modules/$(uname -r)/modules.builtin"; then
    say "module $m not available"
  fi
done

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
