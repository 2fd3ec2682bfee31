#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""A file-backed Cinder volume driver for the local cloud (runs in
cinder-volume).

Each volume is a sparse file <localcloud_volume_dir>/volume-<id>: creating a
1 GiB volume costs no disk until data is written.  Connections are handed
out through os-brick's `local` connector (the "device" is the file path),
which is what cinder-backup needs to read a volume with the posix backup
driver, and to write it back on restore.  No real disk, no iSCSI.
"""

import os
import shutil

from oslo_config import cfg
from oslo_log import log as logging

from cinder import exception
from cinder.volume import driver

LOG = logging.getLogger(__name__)
GIB = 1024 ** 3

OPTS = [
    cfg.StrOpt("localcloud_volume_dir",
               help="Folder holding one sparse file per volume."),
]


class FileVolumeDriver(driver.VolumeDriver):
    VERSION = "1.0.0"
    # Our own driver, not in Cinder's CI list: it must not be refused.
    SUPPORTED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(OPTS)
        self._dir = self.configuration.localcloud_volume_dir

    # ------------------------------------------------------------ setup

    def do_setup(self, context):
        os.makedirs(self._dir, exist_ok=True)

    def check_for_setup_error(self):
        if not os.access(self._dir, os.W_OK):
            raise exception.VolumeBackendAPIException(
                data=f"volume folder {self._dir} is not writable")

    # ------------------------------------------------------------ files

    def local_path(self, volume):
        return os.path.join(self._dir, volume.name)

    def _allocate(self, volume, size_gb):
        # truncate() on a new file makes it sparse: no blocks are written.
        with open(self.local_path(volume), "ab") as handle:
            handle.truncate(size_gb * GIB)

    def create_volume(self, volume):
        LOG.info("creating %s GiB sparse file for %s", volume.size, volume.id)
        self._allocate(volume, volume.size)

    def delete_volume(self, volume):
        try:
            os.unlink(self.local_path(volume))
        except FileNotFoundError:
            LOG.info("volume file of %s already gone", volume.id)

    def extend_volume(self, volume, new_size):
        self._allocate(volume, new_size)

    def create_cloned_volume(self, volume, src_vref):
        # copyfile reads the holes as zeros; fine for the small test volumes.
        shutil.copyfile(self.local_path(src_vref), self.local_path(volume))
        self._allocate(volume, volume.size)

    # ------------------------------------------------------- connections

    def ensure_export(self, context, volume):
        pass

    def create_export(self, context, volume, connector):
        pass

    def remove_export(self, context, volume):
        pass

    def initialize_connection(self, volume, connector, **kwargs):
        return {"driver_volume_type": "local",
                "data": {"device_path": self.local_path(volume)}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    # ------------------------------------------------------------ stats

    def _update_volume_stats(self):
        disk = os.statvfs(self._dir)
        backend = self.configuration.safe_get("volume_backend_name") or "file"
        self._stats = {
            "volume_backend_name": backend,
            "vendor_name": "python-vbsclient localcloud",
            "driver_version": self.VERSION,
            "storage_protocol": "local",
            "total_capacity_gb": disk.f_blocks * disk.f_frsize // GIB,
            "free_capacity_gb": disk.f_bavail * disk.f_frsize // GIB,
            "reserved_percentage": 0,
            "thin_provisioning_support": False,
            "multiattach": False,
        }
