"""How the benchmark runs each tool: backup-flows (bf_tool.py), restic, borg.

Each method returns ``(argv, cwd)`` for one measured process. The peers are
the wrappers that peers.sh writes under ``$BENCH_PEERS_CACHE/bin`` (default
/var/cache/backup-flows-bench/bin); ``peer()`` runs peers.sh when they are
missing.
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.environ.get('BENCH_PEERS_CACHE', '/var/cache/backup-flows-bench')
PASSPHRASE = 'bench-passphrase-not-secret'


class Tool:
    """How one tool initialises, backs up and restores."""

    name = None

    def __init__(self, work):
        self.repo = os.path.join(work, 'repo-' + self.name)
        self.env = dict(os.environ)

    def version(self):
        raise NotImplementedError

    def init(self):
        raise NotImplementedError

    def backup(self, src_dir, label):
        raise NotImplementedError

    def note_output(self, out):
        pass

    def restore(self, out_dir):
        raise NotImplementedError


class BackupFlows(Tool):
    name = 'backup-flows'
    # A directory holding an exported backup_flows package to run instead
    # of the working tree's (run.py --bf-commit), and its commit.
    source = None
    commit = None

    def __init__(self, work):
        super().__init__(work)
        self.env['BACKUP_FLOWS_REPOSITORY_PASSPHRASE'] = PASSPHRASE
        if self.source:
            self.env['PYTHONPATH'] = self.source
        self.tool = [sys.executable, os.path.join(HERE, 'bf_tool.py')]
        self.last = None

    @classmethod
    def use_commit(cls, rev, work_dir):
        """Run ``git archive REV backup_flows`` instead of the work tree."""
        commit = subprocess.check_output(
            ['git', 'rev-parse', '--short', rev + '^{commit}'], cwd=HERE,
            stderr=subprocess.DEVNULL,
            text=True).strip()
        dest = os.path.join(work_dir, 'bf-src-' + commit)
        if not os.path.isdir(dest):
            shutil.rmtree(dest + '.tmp', ignore_errors=True)
            os.makedirs(dest + '.tmp')
            archive = subprocess.Popen(
                ['git', 'archive', commit, 'backup_flows'],
                cwd=os.path.dirname(os.path.dirname(HERE)),
                stdout=subprocess.PIPE)
            subprocess.check_call(['tar', '-x', '-C', dest + '.tmp'],
                                  stdin=archive.stdout)
            if archive.wait():
                raise RuntimeError('git archive %s failed' % commit)
            os.rename(dest + '.tmp', dest)
        cls.source, cls.commit = dest, commit

    def version(self):
        if self.commit:
            head = '%s (git archive, not the work tree)' % self.commit
        else:
            try:
                head = subprocess.run(
                    ['git', 'describe', '--always', '--dirty'], cwd=HERE,
                    capture_output=True, text=True,
                    check=True).stdout.strip() + ' (work tree)'
            except (OSError, subprocess.CalledProcessError):
                head = 'unknown'
        return 'backup-flows %s, Python %s' % (head, sys.version.split()[0])

    def init(self):
        return self.tool + ['init', self.repo], None

    def backup(self, src_dir, label):
        return self.tool + ['backup', self.repo,
                            os.path.join(src_dir, 'disk.img')], None

    def note_output(self, out):
        self.last = out.strip().splitlines()[-1]

    def restore(self, out_dir):
        return self.tool + ['restore', self.repo, self.last,
                            os.path.join(out_dir, 'disk.img')], None


def peer(name):
    """Path of a peer's wrapper; fetch the peers first when missing."""
    path = os.path.join(PEERS, 'bin', name)
    if not os.access(path, os.X_OK):
        subprocess.check_call(['sh', os.path.join(HERE, 'peers.sh'), PEERS])
    return path


class Restic(Tool):
    name = 'restic'

    def __init__(self, work):
        super().__init__(work)
        self.bin = peer('restic')
        self.env.update(RESTIC_PASSWORD=PASSPHRASE,
                        RESTIC_REPOSITORY=self.repo,
                        RESTIC_CACHE_DIR=self.repo + '-cache')

    def version(self):
        return subprocess.check_output([self.bin, 'version'],
                                       text=True).strip()

    def init(self):
        return [self.bin, 'init', '--repository-version', '2', '-q'], None

    def backup(self, src_dir, label):
        return [self.bin, 'backup', '-q', '--compression', 'auto',
                'disk.img'], src_dir

    def restore(self, out_dir):
        # Sparse like the other two: zero runs become holes.
        return [self.bin, 'restore', 'latest', '--sparse',
                '--target', out_dir], None


class Borg(Tool):
    name = 'borg'

    def __init__(self, work):
        super().__init__(work)
        self.bin = peer('borg')
        self.env.update(BORG_PASSPHRASE=PASSPHRASE,
                        BORG_BASE_DIR=self.repo + '-base',
                        BORG_RELOCATED_REPO_ACCESS_IS_OK='yes',
                        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK='yes')
        self.label = None

    def version(self):
        return subprocess.check_output([self.bin, '--version'],
                                       text=True).strip()

    def init(self):
        return [self.bin, 'init', '-e', 'repokey-blake2', self.repo], None

    def backup(self, src_dir, label):
        self.label = label
        return [self.bin, 'create', '--compression', 'zstd,1',
                '%s::%s' % (self.repo, label), 'disk.img'], src_dir

    def restore(self, out_dir):
        return [self.bin, 'extract', '--sparse',
                '%s::%s' % (self.repo, self.label)], out_dir


TOOLS = {'bf': BackupFlows, 'restic': Restic, 'borg': Borg}
