#!/bin/bash
# Delete the backups of a volume that are in status error, and wait until
# they are gone. VOLUME_ID: the volume's ID (or name); the cloud is
# OS_CLOUD's (export OS_CLOUD=otc), the openstack the one on PATH.
set -o pipefail
openstack vbs backup list --volume "$VOLUME_ID" --status error -f value -c ID \
  | openstack vbs backup delete --wait -
