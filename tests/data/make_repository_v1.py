"""Make tests/data/repository-v1: an encrypted repository written with
manifest format version 1 (per-chunk lists in the manifest)."""

import hashlib
import io
import json
import os
import shutil
import sys

sys.path.insert(0, '.')

from backup_flows.repository import Repository  # noqa: E402
from backup_flows.repository import Secret  # noqa: E402

from tests.unit.repository import base  # noqa: E402


def main(path):
    shutil.rmtree(path, ignore_errors=True)
    repo = Repository.init(
        path, encrypted=True, secret=Secret(passphrase=base.PASSPHRASE),
        chunk_size=base.CHUNK, settings=base.settings(),
        scrypt_params=base.FAST_SCRYPT)
    day1 = {'vda': base.disk_bytes(1, 48 << 10),
            'vdb': base.disk_bytes(2, 20 << 10, zeros=0.6)}
    day2 = dict(day1, vda=(day1['vda'][:8192] + base.disk_bytes(3, 4096) +
                           day1['vda'][12288:]))
    expected = {}
    for n, disks in enumerate((day1, day2)):
        with repo.start_backup() as session:
            for name, data in disks.items():
                session.write_disk(name, io.BytesIO(data))
            backup_id = session.commit('server-1', {'name': 'day%d' % (n + 1)})
        expected[backup_id] = {name: hashlib.sha256(data).hexdigest()
                               for name, data in disks.items()}
    repo.close()
    with open(os.path.join(path, '..', 'repository-v1.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    main(sys.argv[1])
