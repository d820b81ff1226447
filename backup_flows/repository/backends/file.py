"""``file`` backend: a repository in a local (or mounted) directory.

URL: ``file:///absolute/path`` or a plain path. Writes go to a temporary file
in the destination directory, are fsync'ed, renamed over the final name and
the directory is fsync'ed, so an object is either complete or absent even
after a power cut. :meth:`FileBackend.create` hard-links the temporary file
to the final name instead, which fails when the name exists. Written
objects are dropped from the page cache once they are on disk: a backup
writes far more than it will read back soon.
"""

import os
import uuid

from oslo_log import log as logging

from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)

_TMP_PREFIX = '.tmp-'


class FileBackend(base.Backend):
    """Objects are files under the root directory."""

    def __init__(self, location, options):
        super().__init__(location, options)
        self.root = os.path.abspath(location)
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise ValueError('%s is not a directory' % self.root)

    def _path(self, name):
        return os.path.join(self.root, *name.split('/'))

    def _write_temporary(self, name, data):
        """Write ``data`` to a new fsync'ed temporary file next to
        ``name``; return ``(temporary path, final path)``."""
        path = self._path(name)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, _TMP_PREFIX + uuid.uuid4().hex)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            # The bytes are on disk: drop them from the page cache (as
            # borg does) instead of evicting pages other programs use.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        return tmp, path

    @staticmethod
    def _sync_directory(path):
        dir_fd = os.open(os.path.dirname(path), os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def put(self, name, data):
        tmp, path = self._write_temporary(name, data)
        os.rename(tmp, path)
        self._sync_directory(path)

    def create(self, name, data):
        # link() fails when the name exists (even on NFS it is atomic on
        # the server), so of two creators exactly one wins.
        tmp, path = self._write_temporary(name, data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise base.ObjectExists(name)
        finally:
            os.unlink(tmp)
        self._sync_directory(path)

    def get(self, name):
        try:
            with open(self._path(name), 'rb') as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            # (a file where a directory of the repository should be)
            raise base.ObjectNotFound(name)

    def get_range(self, name, offset, length):
        try:
            fd = os.open(self._path(name), os.O_RDONLY)
        except FileNotFoundError:
            raise base.ObjectNotFound(name)
        try:
            data = os.pread(fd, length, offset)
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
            return data
        finally:
            os.close(fd)

    def prefetch(self, name, offset, length):
        try:
            fd = os.open(self._path(name), os.O_RDONLY)
        except OSError:
            return
        try:
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)

    def exists(self, name):
        return os.path.isfile(self._path(name))

    def list(self, prefix):
        for name, size, _ in self.list_modified(prefix):
            yield name, size

    def list_modified(self, prefix):
        # Walk only the directory holding the prefix: names are
        # "<dir>/<dir>/<file>" and prefixes end on a directory or mid-file.
        head, _, _ = prefix.rpartition('/')
        start = self._path(head) if head else self.root
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.root)
            rel = '' if rel == '.' else rel.replace(os.sep, '/') + '/'
            for filename in sorted(filenames):
                if filename.startswith(_TMP_PREFIX):
                    continue
                name = rel + filename
                if not name.startswith(prefix):
                    continue
                try:
                    stat = os.stat(os.path.join(dirpath, filename))
                except FileNotFoundError:
                    continue
                yield name, stat.st_size, stat.st_mtime

    def purge_temporaries(self, older_than=None):
        count = 0
        for dirpath, _, filenames in os.walk(self.root):
            for filename in filenames:
                if not filename.startswith(_TMP_PREFIX):
                    continue
                path = os.path.join(dirpath, filename)
                try:
                    if (older_than is not None
                            and os.stat(path).st_mtime >= older_than):
                        continue
                    os.unlink(path)
                    count += 1
                except FileNotFoundError:
                    continue
        return count

    def delete(self, name):
        try:
            os.unlink(self._path(name))
        except FileNotFoundError:
            LOG.debug('Object %s already deleted', name)
