#!/bin/busybox sh
# First stage, from the harness-built initramfs: load the few modules the root disk needs
# (virtio_blk, ext4 and their dependencies, listed in /modules.load), mount /dev/vda and
# switch to the real init named by init= on the kernel command line.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
  echo "cxl-harness: initramfs: $*" > /dev/console
  poweroff -f
}

while read -r m; do
  [ -n "$m" ] && { insmod "/modules/$m" || echo "cxl-harness: initramfs: insmod $m failed" > /dev/console; }
done < /modules.load

i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1))
  [ $i -gt 300 ] && fail "no root disk /dev/vda after 30 s (is virtio_blk missing?)"
  sleep 0.1
done

init=/sbin/init
for word in $(cat /proc/cmdline); do
  case "$word" in init=*) init="${word#init=}" ;; esac
done

mount -t ext4 -o rw /dev/vda /newroot || fail "cannot mount /dev/vda as ext4"
[ -x "/newroot$init" ] || fail "init $init is missing in the root image"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$init"
