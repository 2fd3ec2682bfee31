#!/bin/bash
# Delete every backup of a volume, incremental chains included, and wait
# until they are gone. VOLUME_ID: the volume's ID (or name); the cloud is
# OS_CLOUD's, the openstack the one on PATH.
set -o pipefail
openstack vbs backup list --volume "$VOLUME_ID" -f value -c ID \
  | openstack vbs backup delete --wait -
