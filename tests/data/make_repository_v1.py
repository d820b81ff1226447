"""Make tests/data/repository-v1: an encrypted repository written by the
manifest format version 1 (per-chunk lists in the manifest)."""
import hashlib, io, json, os, shutil, sys
sys.path.insert(0, '.')
from tests.unit.repository import base
from backup_flows.repository import Repository, Secret

path = sys.argv[1]
shutil.rmtree(path, ignore_errors=True)
repo = Repository.init(path, encrypted=True, secret=Secret(passphrase=base.PASSPHRASE),
                       chunk_size=base.CHUNK, settings=base.settings(),
                       scrypt_params=base.FAST_SCRYPT)
day1 = {'vda': base.disk_bytes(1, 48 << 10), 'vdb': base.disk_bytes(2, 20 << 10, zeros=0.6)}
day2 = dict(day1, vda=day1['vda'][:8192] + base.disk_bytes(3, 4096) + day1['vda'][12288:])
expected = {}
for n, disks in enumerate((day1, day2)):
    with repo.start_backup() as s:
        for name, data in disks.items():
            s.write_disk(name, io.BytesIO(data))
        bid = s.commit('server-1', {'name': 'day%d' % (n + 1)})
    expected[bid] = {k: hashlib.sha256(v).hexdigest() for k, v in disks.items()}
repo.close()
json.dump(expected, open(os.path.join(path, '..', 'repository-v1.json'), 'w'), indent=1, sort_keys=True)
