#!/bin/bash
# Delete the backups whose IDs are in ids.txt (one a line), keep a record
# in result.json, print the failures; run it again until it exits 0.
# Needs jq. The cloud is OS_CLOUD's, the openstack the one on PATH.
openstack vbs backup delete --ignore-missing -f json - < ids.txt > result.json
status=$?
echo "exit status: $status"     # 0 only if every backup is deleted or gone
jq -r '.[] | select(.Result == "failed") | "\(.ID) \(.Reason)"' result.json
exit "$status"
