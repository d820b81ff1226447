"""A test case with a temporary MINICLOUD_HOME and captured output."""

import io

import fixtures
import testtools

from tools.minicloud import paths


class MiniCloudTestCase(testtools.TestCase):
    """Each test gets an empty MINICLOUD_HOME and MINICLOUD_CACHE."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.home = self.tmp + '/home'
        self.useFixture(fixtures.EnvironmentVariable('MINICLOUD_HOME',
                                                     self.home))
        self.useFixture(fixtures.EnvironmentVariable('MINICLOUD_CACHE',
                                                     self.tmp + '/cache'))
        self.useFixture(fixtures.EnvironmentVariable('MINICLOUD_WITH'))
        self.s = paths.settings()

    def capture(self):
        """Replace stdout and stderr by StringIO objects; return them."""
        out, err = io.StringIO(), io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        return out, err
