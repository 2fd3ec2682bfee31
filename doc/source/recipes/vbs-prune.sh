#!/bin/bash
# /usr/local/bin/vbs-prune: the nightly prune of /etc/cron.d/vbs-prune.
# A week of dailies and a month of weeklies of every volume of the
# project. Cron runs it with PATH=/usr/bin:/bin and HOME of the job's
# user: set these here, or as NAME=value lines in the cron file.
#   OPENSTACK   the openstack executable, by its absolute path (what
#               `command -v openstack` prints in the user's shell)
#   OS_CLOUD    the cloud, from ~/.config/openstack/clouds.yaml
#   LOG_DIR     where the job's user can write: prune.json, the rows of
#               the last run; prune.err, every run's messages
#   TIME_LIMIT  stop the run after this long (timeout(1)): exit 143
OPENSTACK=${OPENSTACK:-/usr/local/bin/openstack}
export OS_CLOUD=${OS_CLOUD:-otc}
LOG_DIR=${LOG_DIR:-/var/log/vbs-prune}
TIME_LIMIT=${TIME_LIMIT:-50m}
set -o pipefail     # a pipeline added here fails when any part does

if [ ! -w "$LOG_DIR" ]; then
    echo "vbs-prune: cannot write to $LOG_DIR" >&2
    exit 1
fi
date '+%F %T %z vbs-prune' >> "$LOG_DIR/prune.err"
# --foreground: SIGTERM goes to openstack alone, once; --preserve-status:
# its 143 is this script's status, not timeout's 124.
timeout --foreground --preserve-status "$TIME_LIMIT" \
    "$OPENSTACK" vbs backup prune --keep-daily 7 --keep-weekly 4 \
    --wait --timeout 2400 -f json \
    > "$LOG_DIR/prune.json" 2>> "$LOG_DIR/prune.err"
status=$?
if [ "$status" -ne 0 ]; then
    # On standard error: cron mails it.
    echo "vbs-prune: exit status $status, see $LOG_DIR/prune.err" >&2
fi
exit "$status"
