"""Optional components: name -> class, and the one way to load them.

Adding a component: write components/<name>.py with a subclass of
base.Component (and its templates under templates/components/<name>/),
then list the class in REGISTRY. Nothing in the core changes.
"""

from tools.minicloud import util
from tools.minicloud.components import backup_flows
from tools.minicloud.components import cinder_backup

REGISTRY = {cls.name: cls for cls in (
    cinder_backup.CinderBackup,
    backup_flows.BackupFlows,
)}


def parse(text):
    """Component names from a comma list ('' or None: none), checked.

    Raises util.UsageError naming an unknown component.
    """
    names = []
    for name in (text or '').split(','):
        name = name.strip()
        if not name or name in names:
            continue
        if name not in REGISTRY:
            raise util.UsageError('unknown component %r (known: %s)'
                                  % (name, ', '.join(REGISTRY)))
        names.append(name)
    return names


def load(names):
    """Instances of the named components, in registry order."""
    return [cls() for name, cls in REGISTRY.items() if name in names]
