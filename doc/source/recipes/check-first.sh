#!/bin/bash
# What would deleting these backups (names or IDs, the arguments) touch?
# A table of would-delete rows, in the order a run would delete them; no
# DELETE is sent. The cloud is OS_CLOUD's, the openstack the one on PATH.
openstack vbs backup delete --dry-run "$@"
