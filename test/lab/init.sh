#!/bin/busybox sh
# /init of the lab's guest (see lab.sh): mounts, loads the modules, shares the repository at its
# host path, runs /lab/cmd.sh, writes its exit status to /lab/status and powers off.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t tmpfs shm /dev/shm
stty -F /dev/console -onlcr 2>/dev/null
for m in $(cat /lib/modules/modules.list); do
  insmod "/lib/modules/$m" || echo "lab guest: insmod $m failed"
done
mount -t configfs configfs /sys/kernel/config 2>/dev/null
ip link set lo up
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$opts" lab /lab || { echo "lab guest: cannot mount the run directory"; poweroff -f; }
repo=$(cat /lab/repo)
mkdir -p "$repo"
if mount -t 9p -o "$opts" repo "$repo"; then
  bash /lab/cmd.sh </dev/null
  echo $? >/lab/status
else
  echo "lab guest: cannot mount the repository at $repo"
  echo 1 >/lab/status
fi
sync
poweroff -f
