#!/bin/sh
# PID 1 of the lab guest (busybox). Mounts the host's root read-only over 9p, chroots into it,
# loads the storage drivers from the host's module tree and hands the serial console to a shell
# that the host drives (labkit.console). Knobs come from the kernel command line:
#   lab.mods=a,b,c    modules to load in the chroot     lab.disks=N  wait for N disks
#   lab.project=PATH  mount the "project" share there   (the "scratch" share goes to /tmp/lab)
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
dmesg -n 1
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
up() { cut -d' ' -f1 /proc/uptime; }
fatal() { echo "LAB-FATAL: $*" > /dev/ttyS0; sync; poweroff -f; }
while read -r ko; do insmod "$ko" || echo "LAB: insmod $ko failed"; done < /modules.order
R=/newroot
mkdir -p $R
o=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $o,ro,cache=loose hostroot $R || fatal "cannot mount the host root"
for d in proc sys dev dev/pts; do mount --bind /$d $R/$d; done
for d in tmp run var/tmp; do mount -t tmpfs tmpfs $R/$d; done
mkdir -p $R/dev/shm && mount -t tmpfs tmpfs $R/dev/shm
mkdir -p $R/tmp/lab && mount -t 9p -o $o scratch $R/tmp/lab || fatal "cannot mount the scratch share"
P=$(arg lab.project)
if [ -n "$P" ]; then
  mkdir -p "$R$P" 2>/dev/null
  mount -t 9p -o $o,cache=loose project "$R$P" || fatal "cannot mount the project share on $P"
fi
for m in $(arg lab.mods | tr , ' '); do chroot $R /sbin/modprobe "$m" || echo "LAB: modprobe $m failed"; done
want=$(arg lab.disks); want=${want:-0}
i=0
while [ $i -lt 150 ]; do
  n=$(ls /sys/block | grep -c -E '^(sd|nvme|vd)')
  [ "$n" -ge "$want" ] && break
  sleep 0.1; i=$((i+1))
done
stty -F /dev/ttyS0 -echo -onlcr 2>/dev/null
echo "LAB-READY uptime=$(up) disks=$(ls /sys/block | tr '\n' ' ')" > /dev/ttyS0
cd /newroot
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TERM=dumb \
  LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 SYSTEMD_IGNORE_CHROOT=1 PS1= PS2= \
  chroot $R /bin/sh < /dev/ttyS0 > /dev/ttyS0 2>&1
sync
poweroff -f
