#!/bin/bash
# Delete the backups named in ids.txt one request at a time, for a server
# or a change window that asks for it. The cloud is OS_CLOUD's, the
# openstack the one on PATH.
openstack vbs backup delete --parallel 1 - < ids.txt
