#!/bin/bash
# Delete backups stuck in another status (creating, error_deleting, ...),
# names or IDs as arguments: the os-force_delete action, admin only by
# default. The cloud is OS_CLOUD's, the openstack the one on PATH.
openstack vbs backup delete --force "$@"
